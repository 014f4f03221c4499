import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { bundleEntry, LAMBDA_ENTRIES } from '../scripts/bundle-lambdas';
import { median } from './stats';

const run = promisify(execFile);
/** [wall ms, CPU ms] */
type Step = [number, number];
const ROOT = path.resolve(__dirname, '..');

export interface SweeperBundleFigures {
  bytes: { sweeper: number; renderer: number };
  /** Medians, ms, each in a fresh Node process (Node's own start-up left out). */
  coldMs: {
    emptyModule: number;
    /** What every cold start pays: importing the sweeper's bundle (the health runs never load more). */
    sweeperImport: number;
    /** What the first daily summary of an environment adds: the S3 SDK, the presigner and the renderer (ECharts). */
    reportCodeImport: number;
    /** Then rendering one day's report (8 campaigns, 24 hours, a full week's heat map) to HTML. */
    render: number;
  };
  /** The same steps' CPU time (user + system), medians. */
  cpuMs: SweeperBundleFigures['coldMs'];
  sweeperImportRatio: number;
}

/** Rows for each report function: a busy day, so the charts have something to draw. */
function busyDay(): Record<string, Record<string, unknown>[]> {
  const totals = (campaign: string | null, sent: number) => ({
    campaign,
    total_messages: sent,
    sent,
    delivered: Math.round(sent * 0.95),
    read: Math.round(sent * 0.6),
    failed: Math.round(sent * 0.02),
    delivery_rate_percent: 95,
    read_rate_percent: 63.16,
    avg_delivery_seconds: 3.4,
    avg_read_delay_minutes: 22.5,
  });
  const hours = Array.from({ length: 24 }, (_, h) => h);
  return {
    delivery_report: [totals(null, 50_000), ...Array.from({ length: 8 }, (_, i) => totals(`campaign-${i}`, 6_000))],
    hourly_volume: hours.map((h) => ({
      hour: `2026-03-01T${String(h).padStart(2, '0')}:00:00Z`,
      sent: 2_000 + h,
      delivered: 1_900,
      read: 1_200,
      failed: 40,
    })),
    best_send_hours: hours.map((h) => ({ hour_of_day: h, delivered: 1_900, read: 1_200, read_rate_percent: 63.2 })),
    top_recipients: Array.from({ length: 10 }, (_, i) => ({
      phone_number: `+9198765432${String(i).padStart(2, '0')}`,
      messages: 5,
      read: 5,
      read_rate_percent: 100,
      avg_read_delay_minutes: 3,
    })),
    failures_by_error: [131026, 131049, 131047, 130472, 131000].map((code, i) => ({
      error_code: code,
      error_title: `error ${code}`,
      messages: 100 - i * 10,
      share_percent: 20,
    })),
    read_heatmap: Array.from({ length: 7 * 24 }, (_, i) => ({
      weekday: Math.floor(i / 24) + 1,
      hour_of_day: i % 24,
      delivered: 300,
      read: 150 + (i % 50),
      read_rate_percent: 50 + (i % 50) / 3,
    })),
    delay_distribution: ['delivery', 'read'].flatMap((kind) =>
      ['< 5 s', '5-30 s', '30 s-5 min', '5-60 min', '> 1 h'].map((bucket, i) => ({
        kind,
        bucket_order: i,
        bucket,
        messages: 1_000 - i * 150,
      })),
    ),
    delay_percentiles: [
      { delivery_p50_seconds: 3, delivery_p90_seconds: 9, read_p50_minutes: 14, read_p90_minutes: 240 },
    ],
  };
}

/**
 * The sweeper's bundle and cold start, and what the daily report link adds. The renderer (ECharts), the S3 SDK and
 * the presigner are imported on the first daily summary only (lambdas/sweeper/handler.ts), so a health run's cold
 * start is the sweeper's import alone; a summary run adds reportCodeImport and render. Baseline: an empty module.
 */
export async function benchSweeperBundle(short: boolean): Promise<SweeperBundleFigures> {
  const dir = path.join(ROOT, '.build', 'bench');
  const sweeperFile = path.join(dir, 'sweeper', 'index.mjs');
  const rendererFile = path.join(dir, 'report-renderer', 'index.mjs');
  const { bytes: sweeper } = await bundleEntry(LAMBDA_ENTRIES.sweeper, sweeperFile);
  const { bytes: renderer } = await bundleEntry('lambdas/report/daily-report.ts', rendererFile);
  const emptyFile = path.join(dir, 'empty.mjs');
  mkdirSync(dir, { recursive: true });
  writeFileSync(emptyFile, 'export const handler = async () => ({});\n');

  const env = {
    PATH: process.env.PATH ?? '',
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'x',
    AWS_SECRET_ACCESS_KEY: 'x',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_TRACE_ENABLED: 'false',
    SUPABASE_SECRET_ID: 'bench/supabase',
    REPORT_BUCKET_NAME: 'bench-reports',
    BENCH_ROWS: JSON.stringify(busyDay()),
  };
  // One fresh process per figure: imports (and renders) and prints each step's time.
  // One fresh process per figure: imports (and renders) and prints each step's wall time and CPU time (user +
  // system), the steadier of the two on a shared machine.
  const script = `const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
    const mark = () => [performance.now(), cpu()];
    const m0 = mark(); await import(process.argv[1]); const m1 = mark();
    let m2 = m1, m3 = m1;
    if (process.argv[2]) {
      // The S3 client and presigner are in the sweeper's bundle, run on first use; imported here from node_modules,
      // separate files to resolve and read: an upper bound of what the first summary adds.
      await Promise.all([import('@aws-sdk/client-s3'), import('@aws-sdk/s3-request-presigner')]);
      const { renderDailyReport } = await import(process.argv[2]);
      m2 = mark();
      const rows = JSON.parse(process.env.BENCH_ROWS);
      const { html, unavailableSections } = await renderDailyReport(async (fn) => rows[fn] ?? [], { from: new Date('2026-03-01T00:00:00Z'), to: new Date('2026-03-02T00:00:00Z') });
      if (!html.includes('<svg')) throw new Error('no chart rendered');
      if (unavailableSections.length) throw new Error('the page went without ' + unavailableSections.join('; '));
      m3 = mark();
    }
    const d = (a, b) => [b[0] - a[0], b[1] - a[1]];
    process.stdout.write('\\nTIMES ' + JSON.stringify([d(m0, m1), d(m1, m2), d(m2, m3)]) + '\\n');`;
  const once = async (...files: string[]) => {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script, ...files], {
      env,
      cwd: ROOT,
      timeout: 60_000,
    });
    return JSON.parse(/TIMES (.+)/.exec(stdout)![1]!) as [Step, Step, Step];
  };
  const reps = short ? 3 : 9;
  const steps: Record<keyof SweeperBundleFigures['coldMs'], Step[]> = {
    emptyModule: [],
    sweeperImport: [],
    reportCodeImport: [],
    render: [],
  };
  // Interleaved, so a neighbour's load on this shared machine hits every figure alike.
  for (let i = 0; i < reps; i++) {
    steps.emptyModule.push((await once(emptyFile))[0]);
    steps.sweeperImport.push((await once(sweeperFile))[0]);
    const [, load, rendered] = await once(sweeperFile, rendererFile);
    steps.reportCodeImport.push(load);
    steps.render.push(rendered);
  }
  const medians = (index: 0 | 1) =>
    Object.fromEntries(
      Object.entries(steps).map(([k, v]) => [k, median(v.map((step) => step[index]))]),
    ) as SweeperBundleFigures['coldMs'];
  const coldMs = medians(0);
  const cpuMs = medians(1);
  return {
    bytes: { sweeper, renderer },
    coldMs,
    cpuMs,
    sweeperImportRatio: coldMs.sweeperImport / coldMs.emptyModule,
  };
}
