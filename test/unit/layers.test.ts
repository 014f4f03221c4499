import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/**
 * The layers, read from the folder names (docs/layout.md says the same in prose). Every .ts file under these
 * folders is read with the TypeScript compiler's own import scanner (import/export ... from, import(), require()),
 * and each relative import must land in a folder its own folder may import. test/ may import anything and is not
 * checked; nothing outside test/ may import test/.
 */
const ROOT = path.join(__dirname, '..', '..');

const LAMBDA_LAYERS = [
  'lambdas/domain',
  'lambdas/shared',
  'lambdas/store',
  'lambdas/report',
  'lambdas/ingest',
  'lambdas/processor',
  'lambdas/sweeper',
];

/** Folder -> the folders its files may import (its own always included). The longest matching folder decides. */
const ALLOWED: Record<string, string[]> = {
  // Pure rules and types: the one layer everything may import, so it imports nothing of the project.
  'lambdas/domain': [],
  // Lambda runtime plumbing (env, errors, log-safe, Powertools, secrets, tracer, deadline, SQL values): a leaf
  // beside domain, so any handler, store or tool can use it without pulling in a database or a report.
  'lambdas/shared': ['lambdas/domain'],
  // Database adapters (SQL executors, pg, PGlite, Supabase) and the store ports.
  'lambdas/store': ['lambdas/domain', 'lambdas/shared'],
  // The delivery report (data, text, HTML, daily summary): runtime code used by npm start, the operator tools and the
  // sweeper, reading through the store.
  'lambdas/report': ['lambdas/domain', 'lambdas/shared', 'lambdas/store'],
  // One handler each; they never import each other (each is bundled alone).
  'lambdas/ingest': ['lambdas/domain', 'lambdas/shared', 'lambdas/store'],
  'lambdas/processor': ['lambdas/domain', 'lambdas/shared', 'lambdas/store'],
  'lambdas/sweeper': ['lambdas/domain', 'lambdas/shared', 'lambdas/store', 'lambdas/report'],
  // CDK only: `cdk synth` must not load Lambda runtime code (a Logger, Metrics, a database client). Domain constants
  // (metric names, settings and their ranges) are shared with the functions so the two sides cannot drift.
  lib: ['lambdas/domain'],
  bin: ['lib'],
  // Migration runner (production), throwaway PostgreSQL, scratch databases: over the store's SQL executors.
  db: ['lambdas/domain', 'lambdas/shared', 'lambdas/store'],
  // npm start: the Lambda code behind local stand-ins for API Gateway and SQS.
  local: [...LAMBDA_LAYERS, 'db'],
  // Operator CLIs. lib: the alert simulator models the synthesised stack's alarms; tools read the stack's config.
  tools: [...LAMBDA_LAYERS, 'lib', 'local', 'db'],
  // Build, migrate, CI database, load test CLIs.
  scripts: [...LAMBDA_LAYERS, 'lib', 'db'],
  // What the tests and the bench share (webhook builders, fake Secrets Manager, an npm start process, events).
  testkit: [...LAMBDA_LAYERS, 'local', 'db'],
  // The bench drives the real pieces and shares fixtures with the tests through testkit/, never test/.
  bench: [...LAMBDA_LAYERS, 'lib', 'local', 'db', 'tools', 'scripts', 'testkit'],
};

/** npm packages a layer may not load, whatever the folders say. */
const FORBIDDEN_PACKAGES: Record<string, RegExp> = {
  // Pure: no AWS client, no Powertools, no database driver.
  'lambdas/domain': /^(@aws-lambda-powertools\/|@aws-sdk\/|pg$|@electric-sql\/|@supabase\/|aws-cdk-lib|constructs$)/,
  // Synth constructs no Logger or Metrics, and no database client.
  lib: /^(@aws-lambda-powertools\/|pg$|@electric-sql\/|@supabase\/)/,
};

const FOLDERS = Object.keys(ALLOWED).sort((a, b) => b.length - a.length);
const layerOf = (file: string) => FOLDERS.find((f) => file === f || file.startsWith(`${f}/`));

function sourceFiles(): string[] {
  const tops = [...new Set(FOLDERS.map((f) => f.split('/')[0]!))].filter((top) => existsSync(path.join(ROOT, top)));
  return tops
    .flatMap((top) =>
      (readdirSync(path.join(ROOT, top), { recursive: true }) as string[]).map(
        (f) => `${top}/${f.split(path.sep).join('/')}`,
      ),
    )
    .filter((f) => f.endsWith('.ts') && !f.includes('node_modules/'))
    .sort();
}

interface Import {
  from: string;
  specifier: string;
  /** Repository-relative path without extension, for a relative import. */
  target?: string;
}

const cache = new Map<string, Import[]>();
function importsOf(file: string): Import[] {
  const cached = cache.get(file);
  if (cached) return cached;
  const info = ts.preProcessFile(readFileSync(path.join(ROOT, file), 'utf8'), true, true);
  const imports = info.importedFiles.map(({ fileName: specifier }): Import => {
    if (!specifier.startsWith('.')) return { from: file, specifier };
    const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier)).replace(/\.(ts|js)$/, '');
    return { from: file, specifier, target };
  });
  cache.set(file, imports);
  return imports;
}

/** What breaks the table, one line each: `file: imports 'specifier' (layer -> layer)`. */
function layerViolations(files: readonly string[], read: (file: string) => Import[] = importsOf): string[] {
  const found: string[] = [];
  for (const file of files) {
    const layer = layerOf(file);
    if (!layer) {
      found.push(`${file}: in no layer (add its folder to ALLOWED in test/unit/layers.test.ts and to docs/layout.md)`);
      continue;
    }
    for (const { specifier, target } of read(file)) {
      if (target === undefined) {
        if (FORBIDDEN_PACKAGES[layer]?.test(specifier))
          found.push(`${file}: imports '${specifier}' (${layer} may not load this package)`);
        continue;
      }
      if (target === 'test' || target.startsWith('test/')) {
        found.push(`${file}: imports '${specifier}' (${layer} -> test: only tests import test/)`);
        continue;
      }
      const targetLayer = layerOf(target);
      if (!targetLayer) {
        if (target.startsWith('lambdas/')) found.push(`${file}: imports '${specifier}' (${target} is in no layer)`);
        continue;
      }
      if (targetLayer !== layer && !ALLOWED[layer]!.includes(targetLayer)) {
        found.push(`${file}: imports '${specifier}' (${layer} -> ${targetLayer})`);
      }
    }
  }
  return found;
}

/** Import cycles among the checked files, each as `a -> b -> ... -> a` (type-only imports count too). */
function importCycles(files: readonly string[], read: (file: string) => Import[] = importsOf): string[] {
  const known = new Set(files.map((f) => f.replace(/\.ts$/, '')));
  const edges = new Map(
    files.map((f) => [
      f.replace(/\.ts$/, ''),
      read(f).flatMap((i) => (i.target && known.has(i.target) ? [i.target] : [])),
    ]),
  );
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of edges.get(node) ?? []) {
      if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next].join(' -> '));
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of edges.keys()) if (!state.has(node)) visit(node);
  return cycles;
}

describe('layers', () => {
  const files = sourceFiles();

  it('finds the source files', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(files).toContain('lambdas/domain/status-update.ts');
    expect(files).toContain('lib/status-tracking-stack.ts');
  });

  it('every file imports only the layers its folder may import', () => {
    expect(layerViolations(files)).toEqual([]);
  });

  it('no import cycles outside test/', () => {
    expect(importCycles(files)).toEqual([]);
  });

  it('the check names the file and the import it refuses', () => {
    const fake = (imports: Record<string, string[]>) => (file: string) =>
      (imports[file] ?? []).map((specifier) => ({
        from: file,
        specifier,
        target: specifier.startsWith('.')
          ? path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier))
          : undefined,
      }));
    const read = fake({
      'lambdas/domain/a.ts': ['../store/health-store', 'zod'],
      'lib/constructs/b.ts': [
        '../../lambdas/shared/powertools',
        '@aws-lambda-powertools/logger',
        '../../lambdas/domain/metric-names',
      ],
      'bench/c.ts': ['../test/fixtures/webhooks', '../testkit/webhooks'],
      'lambdas/processor/d.ts': ['../ingest/status-queue'],
    });
    expect(
      layerViolations(
        ['lambdas/domain/a.ts', 'lib/constructs/b.ts', 'bench/c.ts', 'lambdas/processor/d.ts', 'lambdas/new/e.ts'],
        read,
      ),
    ).toEqual([
      "lambdas/domain/a.ts: imports '../store/health-store' (lambdas/domain -> lambdas/store)",
      "lib/constructs/b.ts: imports '../../lambdas/shared/powertools' (lib -> lambdas/shared)",
      "lib/constructs/b.ts: imports '@aws-lambda-powertools/logger' (lib may not load this package)",
      "bench/c.ts: imports '../test/fixtures/webhooks' (bench -> test: only tests import test/)",
      "lambdas/processor/d.ts: imports '../ingest/status-queue' (lambdas/processor -> lambdas/ingest)",
      'lambdas/new/e.ts: in no layer (add its folder to ALLOWED in test/unit/layers.test.ts and to docs/layout.md)',
    ]);
    expect(importCycles(['local/a.ts', 'local/b.ts'], fake({ 'local/a.ts': ['./b'], 'local/b.ts': ['./a'] }))).toEqual([
      'local/a -> local/b -> local/a',
    ]);
  });
});
