/**
 * Builds each Lambda exactly as the CDK stack does (same esbuild options, see LAMBDA_BUNDLING) into .build/,
 * for the bundle test on several Node versions and for the benchmark. `tsx scripts/bundle-lambdas.ts` prints sizes.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { parseCli } from '../lambdas/shared/cli';
import { LAMBDA_BUNDLING } from '../lib/constructs/tracker-function';

export const LAMBDA_ENTRIES = {
  ingest: 'lambdas/ingest/handler.ts',
  processor: 'lambdas/processor/handler.ts',
  relay: 'lambdas/processor/relay-handler.ts',
  sweeper: 'lambdas/sweeper/handler.ts',
} as const;
export type LambdaName = keyof typeof LAMBDA_ENTRIES;

const ROOT = path.resolve(__dirname, '..');

export interface BuiltLambda {
  name: LambdaName;
  file: string;
  bytes: number;
  /** The packages the bundle imports from the runtime instead of holding them (esbuild's metafile). */
  external: string[];
}

export async function bundleLambdas(outDir = path.join(ROOT, '.build')): Promise<BuiltLambda[]> {
  const built: BuiltLambda[] = [];
  for (const [name, entry] of Object.entries(LAMBDA_ENTRIES) as [LambdaName, string][]) {
    const file = path.join(outDir, name, 'index.mjs');
    built.push({ name, file, ...(await bundleEntry(entry, file)) });
  }
  return built;
}

/**
 * One module bundled with the Lambdas' options (the benchmark also bundles the lazily loaded parts alone): its size,
 * and the packages it leaves to the runtime.
 */
export async function bundleEntry(entry: string, file: string): Promise<{ bytes: number; external: string[] }> {
  const { metafile } = await build({
    entryPoints: [path.join(ROOT, entry)],
    outfile: file,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: LAMBDA_BUNDLING.target,
    minify: LAMBDA_BUNDLING.minify,
    sourcemap: LAMBDA_BUNDLING.sourceMap,
    sourcesContent: LAMBDA_BUNDLING.sourcesContent,
    mainFields: [...LAMBDA_BUNDLING.mainFields],
    banner: { js: LAMBDA_BUNDLING.banner },
    external: [...LAMBDA_BUNDLING.externalModules],
    metafile: true,
    logLevel: 'error',
  });
  const external = new Set(
    Object.values(metafile.outputs).flatMap((output) => output.imports.filter((i) => i.external).map((i) => i.path)),
  );
  return { bytes: statSync(file).size, external: [...external].sort() };
}

if (require.main === module) {
  parseCli({ name: 'bundle', usage: 'npm run bundle (builds .build/<function>/index.mjs)', options: {} });
  bundleLambdas().then((built) => {
    for (const b of built)
      process.stdout.write(
        `${b.name.padEnd(10)} ${(b.bytes / 1024).toFixed(1).padStart(8)} KiB  ${path.relative(ROOT, b.file)}\n`,
      );
  });
}
