/**
 * `npm run bench:analytics [-- --sizes 1m,10m] [--json]`: the analytics section of `npm run bench` alone (every
 * report and alarm query at each size, and the write path at the largest), on its own throwaway PostgreSQL with the
 * bench's durable settings. 10M messages need ~8 GB of free disk under the temporary directory (TMPDIR) and about
 * 45 minutes on 2 cores; see docs/performance.md.
 */
import { parseCli } from '../lambdas/shared/cli';
import { benchAnalyticsAtScale, printAnalyticsSize, printAnalyticsSummary } from './analytics-scale';
import { startBenchDatabase } from './bench-database';
import { statusWorkload } from './workload';

const { values: args } = parseCli({
  name: 'bench:analytics',
  usage: 'npm run bench:analytics [-- --sizes 1m,10m] [--json]',
  options: { json: { type: 'boolean', default: false }, sizes: { type: 'string', default: '1m,10m' } },
});
const say = (text: string) => (args.json ? process.stderr : process.stdout).write(`${text}\n`);

/** "1m" -> 1,000,000; "100k" -> 100,000; "5000" -> 5,000. */
function parseSize(text: string): number {
  const match = /^(\d+)([km]?)$/i.exec(text.trim());
  if (!match) throw new Error(`not a size: ${text} (e.g. 100k, 1m, 10m)`);
  return Number(match[1]) * ({ k: 1_000, m: 1_000_000 }[match[2]!.toLowerCase()] ?? 1);
}

async function main(): Promise<void> {
  const sizes = String(args.sizes).split(',').map(parseSize);
  const started = performance.now();
  say(`bench:analytics: sizes ${sizes.join(', ')}, node ${process.version}, ${new Date().toISOString()}`);
  const { server: pg, url } = await startBenchDatabase();
  try {
    const scale = await benchAnalyticsAtScale({
      url,
      sizes,
      short: false,
      writeUpdates: statusWorkload(100_000, 40_000),
      onSize: (label, figures) => printAnalyticsSize(say, label, figures),
      onProgress: (line) => process.stderr.write(`${line}\n`),
    });
    printAnalyticsSummary(say, scale);
    say(`  whole run ${((performance.now() - started) / 60_000).toFixed(1)} min`);
    if (args.json) process.stdout.write(`${JSON.stringify({ ...scale.maxKeys, analytics: scale })}\n`);
  } finally {
    await pg.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:analytics failed: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
