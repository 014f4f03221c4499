import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { SQSEvent } from 'aws-lambda';
import { Client } from 'pg';
import type { StatusUpdate } from '../lambdas/domain/status-update';
import { createStatusBatchProcessor } from '../lambdas/processor/process-status-batch';
import { drainStatusEvents, RELAY_SETTINGS } from '../lambdas/processor/status-event-relay';
import { EventBridgeSink } from '../lambdas/processor/status-events';
import { parseCli } from '../lambdas/shared/cli';
import { createPostgresExecutor } from '../lambdas/store/postgres-executor';
import { SqlTrackerStore } from '../lambdas/store/sql-tracker-store';
import { sqsEvent, sqsRecord } from '../testkit/events';
import { startFakeEventBridge } from '../testkit/fake-eventbridge';
import { chunk } from '../testkit/lists';
import { median } from './stats';

/**
 * Status-change events' cost on the processor, and the relay's throughput (docs/events.md#what-it-costs). The same
 * batches through the real processor (createStatusBatchProcessor) and the real SQL three ways:
 * - `off`: events off (apply_status_updates);
 * - `sqlOnly`: events on, nothing draining the outbox (apply_status_updates_with_events: the outbox write's share);
 * - `eventBridge`: events on while the relay (drainStatusEvents in a process of its own, as the relay is a Lambda
 *   function of its own, with its own connection) drains the outbox at the same time, through the real AWS SDK to a
 *   loopback EventBridge stand-in that answers PutEvents after `putEventsLatencyMs` (our assumption for an
 *   in-region PutEvents round trip): the deployed situation, on this machine's shared cores.
 * The relay's throughput is measured apart: the outbox the `sqlOnly` run filled, drained alone.
 */
export interface StatusEventFigures {
  statuses: number;
  batches: number;
  statusesPerBatch: number;
  databaseRoundTripMs: number;
  putEventsLatencyMs: number;
  events: number;
  eventsPerStatus: number;
  /** PutEvents requests per run (the relay's, 10 entries each at most). */
  putEventsRequests: number;
  msPerBatch: { off: number; sqlOnly: number; eventBridge: number };
  /** Per batch, against events off: `eventBridge` is events on as deployed (the relay draining alongside). */
  ratio: { sqlOnly: number; eventBridge: number };
  relay: {
    /** Events the relay put per second draining a full outbox alone (claims of `claimSize`, 10 PutEvents at once). */
    eventsPerSecond: number;
    claimSize: number;
    /** Entries still in the outbox when the processor finished its last batch of the `eventBridge` run (median). */
    backlogAtEnd: number;
  };
}

/**
 * The relay in a child process (this file with `--relay`): drains, polling every 50 ms (deployed: every second, but a
 * run here lasts 1-10 s) so that it works throughout the run, until its stdin closes.
 * Resolves once it has made its first claim.
 */
async function startRelayProcess(databaseUrl: string, putEventsLatencyMs: number) {
  const child = spawn(
    process.execPath,
    [...process.execArgv, __filename, '--relay', databaseUrl, '--put-events-latency-ms', String(putEventsLatencyMs)],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const lines = createInterface({ input: child.stdout });
  const ready = new Promise<void>((resolve, reject) => {
    lines.once('line', () => resolve());
    child.once('exit', (code) => reject(new Error(`the relay process exited (${code}) before it was ready`)));
  });
  await ready;
  return {
    async stop(): Promise<void> {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.stdin.end();
      await exited;
    },
  };
}

/**
 * The child's side: the deployed relay's loop, lingering until told to stop, with the EventBridge stand-in in this
 * process too, so that neither takes the processor's event loop.
 */
async function relayProcess(databaseUrl: string, putEventsLatencyMs: number): Promise<void> {
  const executor = createPostgresExecutor(databaseUrl, { max: 1 });
  const endpoint = await startFakeEventBridge({ latencyMs: putEventsLatencyMs });
  const client = new EventBridgeClient({
    endpoint: endpoint.endpoint,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  let stop = false;
  process.stdin.on('end', () => {
    stop = true;
  });
  process.stdin.resume();
  let first = true;
  const outbox = new SqlTrackerStore(executor);
  await drainStatusEvents(
    {
      outbox: {
        claimStatusEvents: async (max, lease) => {
          const claimed = await outbox.claimStatusEvents(max, lease);
          if (first) process.stdout.write('ready\n');
          first = false;
          return claimed;
        },
        ackStatusEvents: (ids) => outbox.ackStatusEvents(ids),
      },
      sink: new EventBridgeSink(client, 'bench-bus'),
      recipientPolicy: 'masked',
      ...quiet(),
      remainingMs: () => (stop ? 0 : Number.POSITIVE_INFINITY),
    },
    { ...RELAY_SETTINGS, lingerMs: Number.POSITIVE_INFINITY, pollIntervalMs: 50, stopMarginMs: 0 },
  );
  client.destroy();
  await executor.close();
  await endpoint.close();
}

const quiet = () => {
  const logger = new Logger({ logLevel: 'SILENT' });
  return { logger, metrics: new Metrics({ namespace: 'Bench', serviceName: 'bench', logger }) };
};

export async function benchStatusEvents(options: {
  /** The bench database behind the delay proxy. */
  databaseUrl: string;
  databaseRoundTripMs: number;
  updates: StatusUpdate[];
  statusesPerBatch: number;
  putEventsLatencyMs: number;
  repetitions: number;
}): Promise<StatusEventFigures> {
  const { updates, statusesPerBatch } = options;
  // One status per queue message, as AiSensy's one-status webhooks arrive; statusesPerBatch records per invocation.
  const events: SQSEvent[] = chunk(updates, statusesPerBatch).map((batch) =>
    sqsEvent(...batch.map((u) => sqsRecord(JSON.stringify({ v: 1, statuses: [u] })))),
  );
  const executor = createPostgresExecutor(options.databaseUrl, { max: 1 });
  const store = new SqlTrackerStore(executor);
  // The relay is another Lambda: its own connection.
  const relayExecutor = createPostgresExecutor(options.databaseUrl, { max: 1 });
  const relayStore = new SqlTrackerStore(relayExecutor);
  const endpoint = await startFakeEventBridge({ latencyMs: options.putEventsLatencyMs });
  const client = new EventBridgeClient({
    endpoint: endpoint.endpoint,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  const sink = new EventBridgeSink(client, 'bench-bus');
  const relayDeps = { outbox: relayStore, sink, recipientPolicy: 'masked' as const, ...quiet() };

  const admin = async <T>(sql: string): Promise<T[]> => {
    const connection = new Client({ connectionString: options.databaseUrl });
    await connection.connect();
    try {
      return (await connection.query(sql)).rows as T[];
    } finally {
      await connection.end();
    }
  };
  const outboxSize = async () =>
    Number((await admin<{ n: string }>('select count(*) as n from status_event_outbox'))[0]?.n ?? 0);
  const truncate = () => admin('truncate broadcasts_messages, status_event_outbox');

  type Variant = 'off' | 'sqlOnly' | 'eventBridge';
  const run = async (variant: Variant) => {
    await truncate();
    const process = createStatusBatchProcessor({ store: () => store, ...quiet(), statusEvents: variant !== 'off' });
    const relay =
      variant === 'eventBridge' ? await startRelayProcess(options.databaseUrl, options.putEventsLatencyMs) : undefined;
    const started = performance.now();
    for (const event of events) await process(event);
    const msPerBatch = (performance.now() - started) / events.length;
    const backlogAtEnd = variant === 'eventBridge' ? await outboxSize() : 0;
    await relay?.stop();
    const written = variant === 'sqlOnly' ? await outboxSize() : 0;
    let drained = { events: 0, ms: 0 };
    const requestsBefore = endpoint.requests();
    if (variant === 'sqlOnly') {
      // The relay alone on the full outbox: its throughput.
      const t0 = performance.now();
      const outcome = await drainStatusEvents(relayDeps, { ...RELAY_SETTINGS, lingerMs: 0, stopMarginMs: 0 });
      drained = { events: outcome.published, ms: performance.now() - t0 };
    }
    return { msPerBatch, backlogAtEnd, written, drained, requests: endpoint.requests() - requestsBefore };
  };

  try {
    await run('off'); // warm-up: connection, plans, JIT
    const samples: Record<Variant, Awaited<ReturnType<typeof run>>[]> = { off: [], sqlOnly: [], eventBridge: [] };
    // Interleaved, so drift on a shared machine hits every variant alike; the median of each.
    for (let r = 0; r < options.repetitions; r++)
      for (const name of ['off', 'sqlOnly', 'eventBridge'] as const) samples[name].push(await run(name));
    const ms = (name: Variant) => median(samples[name].map((s) => s.msPerBatch));
    const msPerBatch = { off: ms('off'), sqlOnly: ms('sqlOnly'), eventBridge: ms('eventBridge') };
    const eventsPerRun = median(samples.sqlOnly.map((s) => s.written));
    return {
      statuses: updates.length,
      batches: events.length,
      statusesPerBatch,
      databaseRoundTripMs: options.databaseRoundTripMs,
      putEventsLatencyMs: options.putEventsLatencyMs,
      events: eventsPerRun,
      eventsPerStatus: eventsPerRun / updates.length,
      putEventsRequests: median(samples.sqlOnly.map((s) => s.requests)),
      msPerBatch,
      ratio: { sqlOnly: msPerBatch.sqlOnly / msPerBatch.off, eventBridge: msPerBatch.eventBridge / msPerBatch.off },
      relay: {
        eventsPerSecond: median(samples.sqlOnly.map((s) => s.drained.events / (s.drained.ms / 1000))),
        claimSize: RELAY_SETTINGS.maxEvents,
        backlogAtEnd: median(samples.eventBridge.map((s) => s.backlogAtEnd)),
      },
    };
  } finally {
    client.destroy();
    await endpoint.close();
    await executor.close();
    await relayExecutor.close();
  }
}

/**
 * `npm run bench:events`: this section alone (bench/run.ts runs it as section 5), on a throwaway PostgreSQL behind a
 * 2 ms delay proxy, 3,000 statuses over 1,200 messages, batches of 10 and 100, median of 3 interleaved runs.
 */
async function main(): Promise<void> {
  const { startBenchDatabase } = await import('./bench-database');
  const { startDelayProxy } = await import('./delay-proxy');
  const { statusWorkload } = await import('./workload');
  const { server: pg, url } = await startBenchDatabase();
  try {
    const proxy = await startDelayProxy(Number(new URL(pg.url).port), 1);
    const databaseUrl = url.replace(/:(\d+)\//, `:${proxy.port}/`);
    const updates = statusWorkload(3_000, 1_200, 7);
    const repetitions = Number(process.env.BENCH_REPETITIONS ?? 3);
    const out: Record<string, StatusEventFigures> = {};
    for (const statusesPerBatch of [10, 100]) {
      const f = await benchStatusEvents({
        databaseUrl,
        databaseRoundTripMs: 2,
        updates,
        statusesPerBatch,
        putEventsLatencyMs: 20,
        repetitions,
      });
      out[`batch${statusesPerBatch}`] = f;
      console.log(
        `${statusesPerBatch} statuses per batch: off ${f.msPerBatch.off.toFixed(2)} ms/batch; outbox write ${f.ratio.sqlOnly.toFixed(3)}x; events on with the relay draining alongside ${f.ratio.eventBridge.toFixed(3)}x (backlog at the end ${f.relay.backlogAtEnd}); relay alone ${Math.round(f.relay.eventsPerSecond)} events/s, ${f.putEventsRequests} PutEvents requests for ${f.events} events`,
      );
    }
    await proxy.close();
    console.log(JSON.stringify(out));
  } finally {
    await pg.stop();
  }
}

if (require.main === module) {
  // `npm run bench:events`; with `--relay`, the relay process the bench itself starts (startRelayProcess).
  const { values } = parseCli({
    name: 'bench:events',
    usage: 'npm run bench:events',
    options: { relay: { type: 'string' }, 'put-events-latency-ms': { type: 'string', default: '20' } },
  });
  (values.relay ? relayProcess(values.relay, Number(values['put-events-latency-ms'])) : main()).catch(
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
