/**
 * Jest runs TypeScript through SWC (fast, no type check: `npm run typecheck` does that).
 * middy is ESM-only, so it is let through the transformer too.
 * @type {import('jest').Config}
 */
module.exports = {
  testEnvironment: 'node',
  // lambdas/ and lib/ are roots too, so coverage counts their files that no test loads (as 0 %).
  roots: ['<rootDir>/test', '<rootDir>/lambdas', '<rootDir>/lib'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.(t|j)s$': [
      '@swc/jest',
      { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } },
    ],
  },
  transformIgnorePatterns: ['/node_modules/(?!(@middy)/)'],
  setupFiles: ['<rootDir>/test/support/env.ts'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  // A hang's bound, not a speed check (speed is the bench's): CI runs two files beside PostgreSQL on 2 cores, where a
  // PGlite database with every migration, or a tool started by npm, has taken over a minute.
  testTimeout: 120_000,
  // Jest's default (cores - 1) is one worker on a 2-core machine; the suites wait on PostgreSQL much of the time, and
  // the alert simulation's two long files then run beside the rest instead of after it.
  maxWorkers: Math.max(2, require('node:os').availableParallelism() - 1),
  // `npm test -- --coverage` (CI runs it so) measures the deployed code with V8's own coverage (no instrumentation,
  // little overhead) and fails when it drops below what the suite reaches (measured 2026-11-25 without the
  // simulation files: lambdas/ 94 % of lines, 89 % of branches, the handler.ts entry points counting as 0 % since
  // they run bundled in child processes (test/e2e/lambda-bundles.test.ts); lib/ 99.9 % and 87.5 %).
  collectCoverageFrom: ['lambdas/**/*.ts', 'lib/**/*.ts'],
  coverageProvider: 'v8',
  coverageReporters: ['text-summary', 'json-summary'],
  coverageThreshold: {
    // 2026-11-26: 86.9 % of branches after the archive, events, account events and daily report link (each tested on
    // its paths; the remaining branches are mostly defensive fallbacks of AWS SDK answers).
    './lambdas/': { lines: 93, branches: 86 },
    './lib/': { lines: 99, branches: 86 },
  },
};
