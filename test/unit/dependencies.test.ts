import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The lockfile is what `npm ci` installs on every machine (a Mac, CI, the deploy host) and what esbuild bundles into
 * the Lambdas, so two things are checked on the committed file itself:
 *  - it is complete: every optional (platform) package that a locked package asks for is locked too, so `npm ci` on
 *    another OS finds its native binary (@swc/core-darwin-arm64, @esbuild/darwin-arm64, ...);
 *  - one version of each library family is locked: two Powertools versions side by side mean two copies of
 *    `commons` in a bundle and two sets of singletons (environment, cold-start flag) that do not see each other.
 */
interface LockedPackage {
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  link?: boolean;
}

const root = join(__dirname, '..', '..');
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
  lockfileVersion: number;
  packages: Record<string, LockedPackage>;
};
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** Node's lookup: `a/node_modules/b/node_modules/<name>`, then each enclosing `node_modules`, then the top. */
function resolveFrom(location: string, name: string): string | undefined {
  let dir = location;
  for (;;) {
    const candidate = dir === '' ? `node_modules/${name}` : `${dir}/node_modules/${name}`;
    if (lock.packages[candidate]) return candidate;
    if (dir === '') return undefined;
    const cut = dir.lastIndexOf('/node_modules/');
    dir = cut < 0 ? '' : dir.slice(0, cut);
  }
}

/** Versions locked for each package whose name matches, e.g. every `@aws-lambda-powertools/*`. */
function lockedVersions(pattern: RegExp): Map<string, Set<string>> {
  const found = new Map<string, Set<string>>();
  for (const [location, pkg] of Object.entries(lock.packages)) {
    const name = location.slice(location.lastIndexOf('node_modules/') + 'node_modules/'.length);
    if (!location.includes('node_modules/') || !pattern.test(name) || !pkg.version) continue;
    found.set(name, (found.get(name) ?? new Set()).add(pkg.version));
  }
  return found;
}

describe('package-lock.json', () => {
  it('is a version 3 lockfile', () => {
    expect(lock.lockfileVersion).toBe(3);
  });

  it('locks every optional platform package of every locked package (npm ci works on other OSes)', () => {
    const missing: string[] = [];
    for (const [location, pkg] of Object.entries(lock.packages)) {
      if (pkg.link) continue;
      for (const name of Object.keys(pkg.optionalDependencies ?? {})) {
        if (!resolveFrom(location, name)) missing.push(`${location || '(root)'} -> ${name}`);
      }
    }
    expect(missing).toEqual([]);
    // The two families the first incomplete lockfile lacked, named so a regression reads plainly.
    expect(lock.packages['node_modules/@swc/core-darwin-arm64']).toBeDefined();
    expect(lock.packages['node_modules/@swc/core-win32-x64-msvc']).toBeDefined();
  });

  it('locks every package.json dependency at the exact pinned version', () => {
    const wrong: string[] = [];
    for (const [name, wanted] of Object.entries({ ...manifest.dependencies, ...manifest.devDependencies })) {
      const locked = lock.packages[`node_modules/${name}`]?.version;
      if (locked !== wanted) wrong.push(`${name}: package.json ${wanted}, lockfile ${locked ?? 'absent'}`);
    }
    expect(wrong).toEqual([]);
  });

  it.each([
    ['Powertools', /^@aws-lambda-powertools\//],
    ['AWS SDK v3 clients', /^@aws-sdk\/client-/],
  ])('holds one version of the %s family, used by every package of it', (_family, pattern) => {
    const versions = lockedVersions(pattern);
    expect(versions.size).toBeGreaterThan(0);
    const duplicated = [...versions].filter(([, v]) => v.size > 1).map(([name, v]) => `${name}: ${[...v].join(', ')}`);
    expect(duplicated).toEqual([]);
    const all = new Set([...versions.values()].flatMap((v) => [...v]));
    expect([...all]).toHaveLength(1);
  });
});
