import { Client } from 'pg';
import type { StatusUpdate } from '../lambdas/domain/status-update';
import { type AnalyticsFigures, benchAnalytics, generateMessages } from './analytics';
import { ANALYTICS_TARGETS, analyticsMaxKeys, type QueryGrowth, queryGrowth, sizeLabel } from './analytics-summary';
import { median } from './stats';
import { type RunResult, runOurs } from './write-path';

/**
 * The analytics section at several table sizes (issue 15, point 5): every report and alarm query at each size, the
 * growth from the smallest size to the largest, and the write path's rate at the largest size against a small
 * table and an empty one.
 */
export interface AnalyticsAtScale {
  bySize: Record<string, AnalyticsFigures>;
  /** analytics_max_ms_<size>: the slowest judged query's server time at each size. */
  maxKeys: Record<string, number>;
  /** Per query, its server time at the smallest and the largest size. Absent with a single size. */
  growth?: { small: string; large: string; queries: Record<string, QueryGrowth> };
  writePath?: WriteAtScale;
}

export interface WriteAtScale {
  batchSize: number;
  updates: number;
  /** apply_status_updates rate (median of `repetitions` runs) on an empty table, on `smallRows` and on `largeRows`. */
  emptyPerSecond: number;
  smallRows: number;
  smallPerSecond: number;
  largeRows: number;
  largePerSecond: number;
  /** largePerSecond / smallPerSecond: 1 means the table's size costs the write path nothing. */
  largeVsSmall: number;
  repetitions: number;
}

/** Rows a write-path run adds: removed before the next run, so each run inserts and merges the same messages. */
const REMOVE_WORKLOAD_ROWS = "delete from broadcasts_messages where message_id like 'wamid.bench%'";

/** The processor's batches (apply_status_updates, batches of `batchSize`, one connection) on the table as it is. */
async function writeRate(url: string, updates: StatusUpdate[], batchSize: number, repetitions: number) {
  const runs: RunResult[] = [];
  const db = new Client({ connectionString: url });
  await db.connect();
  try {
    for (let i = 0; i < repetitions; i++) {
      await db.query(REMOVE_WORKLOAD_ROWS);
      runs.push(await runOurs(url, updates, batchSize, 1, false));
    }
    await db.query(REMOVE_WORKLOAD_ROWS);
  } finally {
    await db.end();
  }
  return median(runs.map((r) => r.perSecond));
}

export async function benchAnalyticsAtScale(options: {
  url: string;
  sizes: number[];
  short: boolean;
  /** The write path's workload; with none, the write path is not measured. */
  writeUpdates?: StatusUpdate[];
  /** Rows of the small table the large one's write rate is compared with. @default 100,000 */
  smallRows?: number;
  /** Called after each size, e.g. to print its table while the next one is generated. */
  onSize?: (label: string, figures: AnalyticsFigures) => void;
  /** Called after each query and after each generation, for progress lines on long runs. */
  onProgress?: (line: string) => void;
}): Promise<AnalyticsAtScale> {
  const { url, sizes, short, writeUpdates } = options;
  const smallRows = options.smallRows ?? 100_000;
  const batchSize = 1000;
  const repetitions = short ? 1 : 3;
  const bySize: Record<string, AnalyticsFigures> = {};
  let largePerSecond: number | undefined;
  const largest = Math.max(...sizes);
  for (const size of [...sizes].sort((a, b) => a - b)) {
    const label = sizeLabel(size);
    const figures = await benchAnalytics(
      url,
      size,
      short,
      (name, q) =>
        options.onProgress?.(
          `  [${label}] ${name}: ${q.medianMs.toFixed(1)} ms (server ${q.explainMs.toFixed(1)} ms, ${q.runs} runs)`,
        ),
      (g) => options.onProgress?.(`  [${label}] generated: ${JSON.stringify(g)}`),
    );
    bySize[sizeLabel(size)] = figures;
    options.onSize?.(sizeLabel(size), figures);
    if (size === largest && writeUpdates) largePerSecond = await writeRate(url, writeUpdates, batchSize, repetitions);
  }
  const labels = Object.keys(bySize);
  const result: AnalyticsAtScale = {
    bySize,
    maxKeys: analyticsMaxKeys(Object.fromEntries(labels.map((l) => [l, bySize[l]!.queries]))),
  };
  if (labels.length > 1) {
    const small = labels[0]!;
    const large = labels[labels.length - 1]!;
    result.growth = { small, large, queries: queryGrowth(bySize[small]!.queries, bySize[large]!.queries) };
  }
  if (writeUpdates && largePerSecond !== undefined) {
    await generateMessages(url, smallRows);
    const smallPerSecond = await writeRate(url, writeUpdates, batchSize, repetitions);
    const emptyPerSecond = await runOurs(url, writeUpdates, batchSize, 1).then((r) => r.perSecond);
    result.writePath = {
      batchSize,
      updates: writeUpdates.length,
      emptyPerSecond,
      smallRows,
      smallPerSecond,
      largeRows: largest,
      largePerSecond,
      largeVsSmall: largePerSecond / smallPerSecond,
      repetitions,
    };
  }
  // Leave the next sections an empty table, and the disk its space back.
  const db = new Client({ connectionString: url });
  await db.connect();
  await db.query('truncate broadcasts_messages').finally(() => db.end());
  return result;
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const row = (cells: (string | number)[], widths: number[]) =>
  cells.map((c, i) => String(c).padStart(widths[i] ?? 10)).join('  ');

/** One size's table: each query's median at the client and at the server, the runs, and the scans of its plan. */
export function printAnalyticsSize(say: (line: string) => void, label: string, figures: AnalyticsFigures): void {
  const g = figures.generation;
  say(
    `  ${fmt(figures.messages)} messages (${label}): generated in ${fmt(g.seconds, 1)} s (insert ${fmt(g.loadSeconds, 1)} s, indexes ${fmt(g.indexSeconds, 1)} s, vacuum analyze ${fmt(g.vacuumSeconds, 1)} s, rollups ${g.rollupSeconds === null ? 'none in this schema' : `${fmt(g.rollupSeconds, 1)} s`}); table with indexes ${fmt(g.tableBytes / 2 ** 30, 2)} GiB`,
  );
  const widths = [40, 6, 12, 12, 10];
  say(row(['query', 'runs', 'client ms', 'server ms', 'x count(*)'], widths));
  say(row(['baseline: select count(*)', '', fmt(figures.baselineCountMs, 1), '', '1.0x'], widths));
  for (const [name, q] of Object.entries(figures.queries)) {
    say(
      `${row([`${q.judged ? '' : '(not judged) '}${name}`, q.runs, fmt(q.medianMs, 1), fmt(q.explainMs, 1), `${fmt(q.ratioToCount, 2)}x`], widths)}   ${q.plan}`,
    );
  }
}

/** The growth table, the slowest query at each size and the write path, with the targets met or not. */
export function printAnalyticsSummary(say: (line: string) => void, scale: AnalyticsAtScale): void {
  for (const [key, ms] of Object.entries(scale.maxKeys)) {
    const label = key.replace('analytics_max_ms_', '');
    const slowest = Object.entries(scale.bySize[label]!.queries).find(([, q]) => q.judged && q.explainMs === ms);
    say(`  ${key}: ${fmt(ms, 1)} (${slowest?.[0] ?? '?'})`);
  }
  if (scale.growth) {
    const { small, large, queries } = scale.growth;
    const widths = [40, 12, 12, 8, 10, 10];
    say(
      `  growth ${small} -> ${large} (server time: median of warm EXPLAIN ANALYZE runs; targets at ${large}: < ${ANALYTICS_TARGETS.maxMs} ms, ratio <= ${ANALYTICS_TARGETS.maxRatio})`,
    );
    say(row(['query', `${small} ms`, `${large} ms`, 'ratio', `< ${ANALYTICS_TARGETS.maxMs} ms`, 'ratio ok'], widths));
    const judged = Object.entries(queries).filter(([, q]) => q.judged);
    for (const [name, q] of Object.entries(queries)) {
      say(
        row(
          [
            `${q.judged ? '' : '(not judged) '}${name}`,
            fmt(q.smallMs, 1),
            fmt(q.largeMs, 1),
            `${fmt(q.ratio, 1)}x`,
            q.underMaxMs ? 'yes' : 'NO',
            q.ratioNearOne ? 'yes' : 'NO',
          ],
          widths,
        ),
      );
    }
    const meetBoth = judged.filter(([, q]) => q.underMaxMs && q.ratioNearOne).length;
    say(
      `  targets: ${meetBoth} of ${judged.length} report and alarm queries meet both at ${large} (${judged.filter(([, q]) => q.underMaxMs).length} under ${ANALYTICS_TARGETS.maxMs} ms, ${judged.filter(([, q]) => q.ratioNearOne).length} with ratio <= ${ANALYTICS_TARGETS.maxRatio})`,
    );
  }
  const w = scale.writePath;
  if (w) {
    say(
      `  write path (apply_status_updates, batches of ${w.batchSize}, 1 connection, ${fmt(w.updates)} updates, median of ${w.repetitions}): empty table ${fmt(w.emptyPerSecond)}/s, ${fmt(w.smallRows)} rows ${fmt(w.smallPerSecond)}/s, ${fmt(w.largeRows)} rows ${fmt(w.largePerSecond)}/s: ${fmt(w.largeVsSmall, 2)}x the ${sizeLabel(w.smallRows)} table's rate`,
    );
  }
}
