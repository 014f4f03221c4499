/**
 * Jest runs TypeScript through SWC (fast, no type check: `npm run typecheck` does that).
 * middy is ESM-only, so it is let through the transformer too.
 * @type {import('jest').Config}
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.(t|j)s$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!(@middy)/)'],
  setupFiles: ['<rootDir>/test/support/env.ts'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 60000,
  // Jest's default (cores - 1) is one worker on a 2-core machine; the suites wait on PostgreSQL much of the time, and
  // the alert simulation's two long files then run beside the rest instead of after it.
  maxWorkers: Math.max(2, require('node:os').availableParallelism() - 1),
};
