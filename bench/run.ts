/**
 * `npm run bench`: every speed figure next to a baseline measured in the same run, as a ratio (these machines are
 * shared and noisy). `--json` prints one JSON object on stdout (the table goes to stderr); `--short` is the
 * seconds-long form CI runs. Starts its own throwaway PostgreSQL (durable settings: fsync on).
 */
import { parseCli } from '../lambdas/shared/cli';
import { loadConfig } from '../lib/config';
import { benchAnalyticsAtScale, printAnalyticsSize, printAnalyticsSummary } from './analytics-scale';
import { measureArchiveSize } from './archive-size';
import { startBenchDatabase } from './bench-database';
import { archiveCost, costByApiType, costPerMillionWebhooks, PRICES } from './cost';
import { startDelayProxy } from './delay-proxy';
import { benchEndToEnd } from './end-to-end';
import { benchIngest } from './ingest';
import { benchStatusEvents } from './status-events';
import { benchSweeperBundle } from './sweeper-bundle';
import { statusWorkload } from './workload';
import {
  GUIDE_TABLE_SQL,
  guideLostUpdates,
  lostAgainst,
  type RunResult,
  runCopy,
  runGuide,
  runOurs,
  snapshotOurs,
} from './write-path';

// The handlers' EMF lines and the SDK's Node 20 notice would bury the table.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { values: args } = parseCli({
  name: 'bench',
  usage: 'npm run bench [-- --short] [--json]   (BENCH_SHORT=1 is --short)',
  options: { json: { type: 'boolean', default: false }, short: { type: 'boolean', default: false } },
});
const JSON_OUTPUT = args.json;
const SHORT = args.short || process.env.BENCH_SHORT === '1';
const say = (text: string) => (JSON_OUTPUT ? process.stderr : process.stdout).write(`${text}\n`);

const SIZES = SHORT
  ? {
      updates: 5_000,
      messages: 2_000,
      guide: 1_500,
      delayedGuide: 300,
      delayedBatch10: 1_000,
      analytics: [50_000],
      events: 500,
    }
  : {
      updates: 100_000,
      messages: 40_000,
      guide: 30_000,
      delayedGuide: 3_000,
      delayedBatch10: 20_000,
      // 10M needs ~8 GB of disk and ~45 minutes on 2 cores: never in CI, which runs --short.
      analytics: [1_000_000, 10_000_000],
      events: 3_000,
    };

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const row = (cells: (string | number)[], widths: number[]) =>
  cells.map((c, i) => String(c).padStart(widths[i] ?? 10)).join('  ');

async function main(): Promise<void> {
  say(`bench (${SHORT ? 'short' : 'full'}): node ${process.version}, ${new Date().toISOString()}`);
  const { server: pg, url } = await startBenchDatabase((setup) => setup.exec(GUIDE_TABLE_SQL));
  const out: Record<string, unknown> = { short: SHORT, node: process.version, sizes: SIZES };

  try {
    // 1. Write path ------------------------------------------------------------------------------------------
    const updates = statusWorkload(SIZES.updates, SIZES.messages);
    const guideSet = updates.slice(0, SIZES.guide);
    say(
      `\n1. Write path: ${fmt(updates.length)} updates over ${fmt(SIZES.messages)} messages (duplicates, out of order), real PostgreSQL`,
    );
    const b1000 = await runOurs(url, updates, 1000, 1);
    const expected = await snapshotOurs(url);
    const b100 = await runOurs(url, updates, 100, 1);
    const lost100seq = lostAgainst(expected, await snapshotOurs(url));
    const b10 = await runOurs(url, updates, 10, 1);
    const lost10seq = lostAgainst(expected, await snapshotOurs(url));
    const b1000x4 = await runOurs(url, updates, 1000, 4);
    const lost1000x4 = lostAgainst(expected, await snapshotOurs(url));
    const b100x4 = await runOurs(url, updates, 100, 4);
    const lost100x4 = lostAgainst(expected, await snapshotOurs(url));
    const guide1 = await runGuide(url, guideSet, 1);
    const guideLost1 = await guideLostUpdates(url, guideSet);
    const guide4 = await runGuide(url, guideSet, 4);
    const guideLost4 = await guideLostUpdates(url, guideSet);
    const copy = await runCopy(url, updates);

    const proxy = await startDelayProxy(Number(new URL(pg.url).port), 1);
    const delayedUrl = url.replace(/:(\d+)\//, `:${proxy.port}/`);
    const d1000 = await runOurs(delayedUrl, updates, 1000, 1);
    const d100 = await runOurs(delayedUrl, updates, 100, 1);
    const d10 = await runOurs(delayedUrl, updates.slice(0, SIZES.delayedBatch10), 10, 1);
    const dGuide = await runGuide(delayedUrl, updates.slice(0, SIZES.delayedGuide), 1);
    const dGuide4 = await runGuide(delayedUrl, updates.slice(0, SIZES.delayedGuide), 4);
    await proxy.close();

    const widths = [34, 10, 12, 14, 12];
    say(row(['approach', 'updates', 'updates/s', 'x guide way', 'lost rows'], widths));
    const line = (name: string, r: RunResult, base: RunResult, lost: number | string) =>
      say(row([name, fmt(r.updates), fmt(r.perSecond), `${fmt(r.perSecond / base.perSecond, 1)}x`, lost], widths));
    line('guide way (per status), 1 client', guide1, guide1, guideLost1);
    line('guide way, 4 clients', guide4, guide1, `${guideLost4} (${guide4.errors} errors)`);
    line('ours, batch 10', b10, guide1, lost10seq);
    line('ours, batch 100', b100, guide1, lost100seq);
    line('ours, batch 1000', b1000, guide1, '(reference)');
    line('ours, batch 100, 4 clients', b100x4, guide1, lost100x4);
    line('ours, batch 1000, 4 clients', b1000x4, guide1, lost1000x4);
    line('COPY, no conflict handling (ceiling)', copy, guide1, '-');
    say('  with 2 ms round trip (loopback delay proxy):');
    line('guide way, 1 client', dGuide, dGuide, '-');
    line('guide way, 4 clients', dGuide4, dGuide, '-');
    line('ours, batch 10', d10, dGuide, '-');
    line('ours, batch 100', d100, dGuide, '-');
    line('ours, batch 1000', d1000, dGuide, '-');
    const writeTargets = {
      batch1000_vs_guide_loopback: b1000.perSecond / guide1.perSecond,
      batch1000_vs_guide_2ms: d1000.perSecond / dGuide.perSecond,
      copy_vs_batch1000: copy.perSecond / b1000.perSecond,
    };
    say(
      `  targets: batch 1000 ${fmt(writeTargets.batch1000_vs_guide_loopback, 1)}x the guide way on loopback (>= 10x), ${fmt(writeTargets.batch1000_vs_guide_2ms, 1)}x with 2 ms (>= 50x); COPY is ${fmt(writeTargets.copy_vs_batch1000, 1)}x ours (<= 10x)`,
    );
    Object.assign(out, {
      batch10_per_s: b10.perSecond,
      batch100_per_s: b100.perSecond,
      batch1000_per_s: b1000.perSecond,
      batch100_4clients_per_s: b100x4.perSecond,
      batch1000_4clients_per_s: b1000x4.perSecond,
      per_status_per_s: guide1.perSecond,
      per_status_4clients_per_s: guide4.perSecond,
      copy_per_s: copy.perSecond,
      lost_updates_per_status: guideLost4,
      lost_updates_per_status_errors: guide4.errors,
      lost_updates_batch: lost1000x4 + lost100x4,
      delayed_2ms: {
        batch10_per_s: d10.perSecond,
        batch100_per_s: d100.perSecond,
        batch1000_per_s: d1000.perSecond,
        per_status_per_s: dGuide.perSecond,
        per_status_4clients_per_s: dGuide4.perSecond,
      },
      write_targets: writeTargets,
    });

    // 2. Ingest -----------------------------------------------------------------------------------------------
    say('\n2. Ingest handler (real SDK client -> loopback SQS endpoint)');
    const ingest = await benchIngest(SHORT);
    say(row(['webhook', 'statuses', 'median ms', 'p99 ms', 'x bare send'], [34, 10, 12, 14, 12]));
    say(
      row(['baseline: one bare SendMessageBatch', 1, fmt(ingest.baselineSendMs, 2), '', '1.0x'], [34, 10, 12, 14, 12]),
    );
    for (const [name, f] of Object.entries(ingest.handler)) {
      say(
        row([name, f.statuses, fmt(f.medianMs, 2), fmt(f.p99Ms, 2), `${fmt(f.ratioToSend, 1)}x`], [34, 10, 12, 14, 12]),
      );
    }
    say(
      `  bundles (minified ESM, AWS SDK external): ${Object.entries(ingest.bundles)
        .map(([n, b]) => `${n} ${fmt(b / 1024, 1)} KiB`)
        .join(', ')} (target: ingest < 250 KiB)`,
    );
    say(
      `  cold initialisation (import + first event, fresh process): ingest ${fmt(ingest.coldInit.ingestMs, 1)} ms, processor ${fmt(ingest.coldInit.processorMs, 1)} ms; empty module ${fmt(ingest.coldInit.bareImportMs, 1)} ms (ingest ${fmt(ingest.coldInit.ingestRatio, 1)}x; target < 150 ms)`,
    );
    out.ingest = ingest;
    const sweeper = await benchSweeperBundle(SHORT);
    say(
      `  sweeper: bundle ${fmt(sweeper.bytes.sweeper / 1024, 1)} KiB, of which the report renderer (ECharts) ${fmt(sweeper.bytes.renderer / 1024, 1)} KiB; cold import ${fmt(sweeper.coldMs.sweeperImport, 1)} ms, CPU ${fmt(sweeper.cpuMs.sweeperImport, 1)} ms (${fmt(sweeper.sweeperImportRatio, 1)}x the empty module's ${fmt(sweeper.coldMs.emptyModule, 1)} ms): every cold start, health runs included`,
    );
    say(
      `  sweeper's first daily summary adds ${fmt(sweeper.coldMs.reportCodeImport, 1)} ms (CPU ${fmt(sweeper.cpuMs.reportCodeImport, 1)} ms) loading the S3 SDK, presigner and renderer (lazily: health runs never do) and ${fmt(sweeper.coldMs.render, 1)} ms (CPU ${fmt(sweeper.cpuMs.render, 1)} ms) rendering a busy day's report`,
    );
    out.sweeper_bundle = sweeper;

    // 3. End to end -------------------------------------------------------------------------------------------
    say('\n3. End to end: autocannon against npm start (1-status webhooks, 50 connections)');
    const e2e = await benchEndToEnd(url, SHORT);
    say(row(['server', 'requests', 'req/s', 'p99 ms', 'x bare HTTP'], [34, 10, 12, 14, 12]));
    say(
      row(
        [
          'baseline: bare Node HTTP server',
          fmt(e2e.baseline.requests),
          fmt(e2e.baseline.requestsPerSecond),
          e2e.baseline.latencyP99Ms,
          '1.0x',
        ],
        [34, 10, 12, 14, 12],
      ),
    );
    say(
      row(
        [
          'npm start (PostgreSQL)',
          fmt(e2e.ours.requests),
          fmt(e2e.ours.requestsPerSecond),
          e2e.ours.latencyP99Ms,
          `${fmt(e2e.ratioToBaseline, 2)}x`,
        ],
        [34, 10, 12, 14, 12],
      ),
    );
    say(
      `  stored ${fmt(e2e.stored)} rows for ${fmt(e2e.ours.sent)} webhooks sent (${fmt(e2e.ours.ok)} answered before the clock stopped), ${e2e.ours.non2xx} non-2xx, ${e2e.ours.errors} errors: ${e2e.exact ? 'exact' : 'MISMATCH'}`,
    );
    out.end_to_end = e2e;

    // 4. Analytics --------------------------------------------------------------------------------------------
    say(
      `\n4. Analytics: every report and alarm query on ${SIZES.analytics.map((n) => fmt(n)).join(' and ')} generated messages (30 days)`,
    );
    const analytics = await benchAnalyticsAtScale({
      url,
      sizes: SIZES.analytics,
      short: SHORT,
      // At scale only: the write path at the largest table against a 100k one (the short form keeps its seconds).
      writeUpdates: SHORT ? undefined : updates,
      onSize: (label, figures) => printAnalyticsSize(say, label, figures),
    });
    printAnalyticsSummary(say, analytics);
    say(`  (targets: each report and alarm query < 100 ms at the largest size, and about as fast as at the smallest)`);
    Object.assign(out, analytics.maxKeys);
    out.analytics = analytics;

    // 5. Status-change events ------------------------------------------------------------------------------------
    const PUT_EVENTS_LATENCY_MS = 20;
    say(
      `\n5. Status-change events: the same batches through the processor with events off and on (2 ms to the database; loopback PutEvents answering after ${PUT_EVENTS_LATENCY_MS} ms, an assumed in-region round trip)`,
    );
    const eventsProxy = await startDelayProxy(Number(new URL(pg.url).port), 1);
    const eventsUrl = url.replace(/:(\d+)\//, `:${eventsProxy.port}/`);
    const eventUpdates = statusWorkload(SIZES.events, Math.round(SIZES.events * 0.4), 7);
    const statusEvents = {
      batch10: await benchStatusEvents({
        databaseUrl: eventsUrl,
        databaseRoundTripMs: 2,
        updates: eventUpdates,
        statusesPerBatch: 10,
        putEventsLatencyMs: PUT_EVENTS_LATENCY_MS,
        repetitions: SHORT ? 1 : 3,
      }),
      batch100: await benchStatusEvents({
        databaseUrl: eventsUrl,
        databaseRoundTripMs: 2,
        updates: eventUpdates,
        statusesPerBatch: 100,
        putEventsLatencyMs: PUT_EVENTS_LATENCY_MS,
        repetitions: SHORT ? 1 : 3,
      }),
    };
    await eventsProxy.close();
    // Events on: the processor writes the outbox in its transaction ('outbox write'); the relay drains it to the bus
    // in a process of its own ('relay alongside': on this machine it shares the cores, in AWS it runs apart).
    say(
      row(
        ['batch', 'events', 'ms/batch off', 'outbox write', 'relay alongside', 'relay alone'],
        [34, 10, 12, 14, 16, 14],
      ),
    );
    for (const [name, f] of Object.entries(statusEvents)) {
      say(
        row(
          [
            `${f.statusesPerBatch} statuses (${fmt(f.batches)} batches)`,
            fmt(f.events),
            fmt(f.msPerBatch.off, 2),
            `${fmt(f.ratio.sqlOnly, 3)}x`,
            `${fmt(f.ratio.eventBridge, 2)}x`,
            `${fmt(f.relay.eventsPerSecond)} ev/s`,
          ],
          [34, 10, 12, 14, 16, 14],
        ),
      );
      void name;
    }
    const e10 = statusEvents.batch10;
    say(
      `  ${fmt(e10.eventsPerStatus, 3)} events per status (${fmt(e10.putEventsRequests)} PutEvents requests for ${fmt(e10.events)} events, sent by the relay); the outbox write added per batch of 10: ${fmt(e10.msPerBatch.sqlOnly - e10.msPerBatch.off, 2)} ms`,
    );
    out.status_events = statusEvents;

    // 6. Cost -------------------------------------------------------------------------------------------------
    const costInputs = {
      ingestHandlerMs: ingest.handler.flat_1!.medianMs,
      processorBatchMs: 10 / (d10.perSecond / 1000),
      ingestMemoryMb: 256,
      processorMemoryMb: 512,
      statusEvents: {
        eventsPerWebhook: e10.eventsPerStatus,
        // What the processor pays is the outbox write; the relay's time is costed apart from its throughput.
        extraMsPerBatch: Math.max(0, e10.msPerBatch.sqlOnly - e10.msPerBatch.off),
        relayEventsPerSecond: e10.relay.eventsPerSecond,
      },
    };
    const cost = costPerMillionWebhooks(costInputs);
    const byApiType = costByApiType(costInputs);
    say(
      `\n6. Cost per million 1-status webhooks (${PRICES.region} list prices recorded ${PRICES.recordedOn}): $${fmt(cost.usd, 2)}`,
    );
    say(
      `  ${Object.entries(cost.parts)
        .map(([k, v]) => `${k} $${v}`)
        .join(
          ', ',
        )}; billed ms assumed: ingest ${cost.assumed.ingestBilledMs}, processor ${cost.assumed.processorBilledMs} per batch of 10`,
    );
    say(
      `  status events: ${fmt(cost.assumed.statusEventsPerMillionWebhooks ?? 0)} events per million webhooks (measured changes per status of the workload) at $${PRICES.eventBridgeCustomEventsPerMillion} per million, plus the added processor time above`,
    );
    say(`  by apiType: REST API (the default) $${fmt(byApiType.rest, 2)}, HTTP API $${fmt(byApiType.http, 2)}`);
    out.cost = { ...cost, byApiType, prices: PRICES };
    const defaults = loadConfig({}, {});
    const archive = archiveCost({
      ...measureArchiveSize(SHORT ? 2_000 : 10_000),
      bufferSeconds: defaults.archiveBufferSeconds,
      transitionDays: defaults.archiveTransitionDays,
      expirationDays: defaults.archiveExpirationDays,
    });
    say(
      `  archive (docs/archive.md): Firehose $${archive.firehosePerMillionWebhooks} per million webhooks (records of ${archive.measured.meanRecordBytes} bytes billed as ${archive.measured.meanBilledBytes}); ` +
        `S3 PUTs and transitions $${archive.s3RequestsPerMonth} a month; storage $${archive.storagePerMillionStatuses} per million statuses over their ${defaults.archiveExpirationDays} days ` +
        `(${archive.measured.gzipBytesPerStatus} GZIP bytes per status measured on generated webhooks)`,
    );
    out.archive_cost = archive;
  } finally {
    await pg.stop();
  }
  if (JSON_OUTPUT) process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${(error as Error).stack ?? error}\n`);
  // Exit now: a failed step can leave a loopback endpoint or a pool open, and CI must not wait on it.
  process.exit(1);
});
