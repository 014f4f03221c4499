import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { SQSEvent } from 'aws-lambda';
import { Client } from 'pg';
import type { StatusUpdate } from '../lambdas/domain/status-update';
import { createStatusBatchProcessor } from '../lambdas/processor/process-status-batch';
import { EventBridgeSink, type StatusEventSink } from '../lambdas/processor/status-events';
import { createPostgresExecutor } from '../lambdas/store/postgres-executor';
import { SqlTrackerStore } from '../lambdas/store/sql-tracker-store';
import { sqsEvent, sqsRecord } from '../testkit/events';
import { startFakeEventBridge } from '../testkit/fake-eventbridge';
import { chunk } from '../testkit/lists';
import { median } from './stats';

/**
 * Status-change events' cost on the processor: the same batches through the real processor (createStatusBatchProcessor)
 * and the real SQL, with events off (apply_status_updates), with events on but an instant sink (the SQL's share:
 * apply_status_changes), and with events on through the real AWS SDK to a loopback EventBridge stand-in that answers
 * PutEvents after `putEventsLatencyMs` (our assumption for an in-region PutEvents round trip).
 */
export interface StatusEventFigures {
  statuses: number;
  batches: number;
  statusesPerBatch: number;
  databaseRoundTripMs: number;
  putEventsLatencyMs: number;
  events: number;
  eventsPerStatus: number;
  putEventsRequests: number;
  msPerBatch: { off: number; sqlOnly: number; eventBridge: number };
  ratio: { sqlOnly: number; eventBridge: number };
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
  const endpoint = await startFakeEventBridge({ latencyMs: options.putEventsLatencyMs });
  const client = new EventBridgeClient({
    endpoint: endpoint.endpoint,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  const instant: StatusEventSink = { put: async () => [] };
  const sinks = { off: undefined, sqlOnly: instant, eventBridge: new EventBridgeSink(client, 'bench-bus') } as const;

  const truncate = async () => {
    const admin = new Client({ connectionString: options.databaseUrl });
    await admin.connect();
    await admin.query('truncate broadcasts_messages');
    await admin.end();
  };
  const run = async (sink: StatusEventSink | undefined): Promise<number> => {
    await truncate();
    const process = createStatusBatchProcessor({
      store: () => store,
      ...quiet(),
      statusEvents: sink ? { sink, recipientPolicy: 'masked' } : undefined,
    });
    const started = performance.now();
    for (const event of events) await process(event);
    return (performance.now() - started) / events.length;
  };

  try {
    await run(undefined); // warm-up: connection, plans, JIT
    const samples = { off: [] as number[], sqlOnly: [] as number[], eventBridge: [] as number[] };
    // Interleaved, so drift on a shared machine hits every variant alike; the median of each.
    for (let r = 0; r < options.repetitions; r++)
      for (const name of ['off', 'sqlOnly', 'eventBridge'] as const) samples[name].push(await run(sinks[name]));
    const counts = { requests: endpoint.requests(), entries: endpoint.accepted.length };
    const msPerBatch = {
      off: median(samples.off),
      sqlOnly: median(samples.sqlOnly),
      eventBridge: median(samples.eventBridge),
    };
    const eventsPerRun = counts.entries / options.repetitions;
    return {
      statuses: updates.length,
      batches: events.length,
      statusesPerBatch,
      databaseRoundTripMs: options.databaseRoundTripMs,
      putEventsLatencyMs: options.putEventsLatencyMs,
      events: eventsPerRun,
      eventsPerStatus: eventsPerRun / updates.length,
      putEventsRequests: counts.requests / options.repetitions,
      msPerBatch,
      ratio: { sqlOnly: msPerBatch.sqlOnly / msPerBatch.off, eventBridge: msPerBatch.eventBridge / msPerBatch.off },
    };
  } finally {
    client.destroy();
    await endpoint.close();
    await executor.close();
  }
}
