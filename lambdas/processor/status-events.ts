import { appendFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { METRIC } from '../domain/metric-names';
import { putEventsRequests, StatusEventEntry } from '../domain/status-change-event';

/**
 * Where status-change events go (docs/events.md). `put` resolves with the entries it could not deliver after its own
 * retries, and does not throw for a failure of the destination.
 */
export interface StatusEventSink {
  put(entries: readonly StatusEventEntry[]): Promise<StatusEventEntry[]>;
}

export interface EventBridgeSinkOptions {
  /** Attempts per entry, the first included: entries EventBridge reports as failed (throttled, internal) are retried. */
  attempts?: number;
  /** The wait before the second attempt, doubling after. */
  baseDelayMs?: number;
  /** PutEvents requests in flight at once (default 10: a batch of 100 changes in one round trip); a burst of 1,000 changes stays under the region's PutEvents quota. */
  concurrency?: number;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs `work` on every item with at most `limit` at once. */
async function eachWithLimit<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++] as T);
  });
  await Promise.all(lanes);
}

/**
 * EventBridge PutEvents on one bus (IAM: events:PutEvents on that bus only): requests of at most 10 entries and
 * 256 KiB; entries reported failed in the response (`FailedEntryCount`, an `ErrorCode` per entry) and requests that
 * fail whole (after the SDK's own retries) are retried with a doubling wait; what still fails is returned.
 */
export class EventBridgeSink implements StatusEventSink {
  private readonly attempts: number;
  private readonly baseDelayMs: number;
  private readonly concurrency: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly client: EventBridgeClient,
    private readonly eventBusName: string,
    options: EventBridgeSinkOptions = {},
  ) {
    this.attempts = options.attempts ?? 3;
    this.baseDelayMs = options.baseDelayMs ?? 100;
    this.concurrency = options.concurrency ?? 10;
    this.sleep = options.sleep ?? defaultSleep;
  }

  async put(entries: readonly StatusEventEntry[]): Promise<StatusEventEntry[]> {
    const undelivered: StatusEventEntry[] = [];
    await eachWithLimit(putEventsRequests(entries), this.concurrency, async (request) => {
      let pending = request;
      for (let attempt = 1; pending.length > 0 && attempt <= this.attempts; attempt++) {
        if (attempt > 1) await this.sleep(this.baseDelayMs * 2 ** (attempt - 2));
        pending = await this.putOnce(pending);
      }
      undelivered.push(...pending);
    });
    return undelivered;
  }

  /** One PutEvents request; resolves with the entries that failed. */
  private async putOnce(entries: readonly StatusEventEntry[]): Promise<StatusEventEntry[]> {
    try {
      const response = await this.client.send(
        new PutEventsCommand({
          Entries: entries.map((e) => ({
            EventBusName: this.eventBusName,
            Source: e.Source,
            DetailType: e.DetailType,
            Detail: e.Detail,
            Time: new Date(e.Time),
          })),
        }),
      );
      if (!response.FailedEntryCount) return [];
      // The response's entries are in the request's order; a failed one has an ErrorCode and no EventId.
      return entries.filter((_, i) => {
        const result = response.Entries?.[i];
        return !result || Boolean(result.ErrorCode) || !result.EventId;
      });
    } catch {
      return [...entries];
    }
  }
}

/**
 * `npm start`: each event appended to an NDJSON file as EventBridge would deliver it to a rule's target (the same
 * envelope: version, id, detail-type, source, time, detail), so a user sees the shape. Never fails a batch: an
 * unwritable file returns the entries as undelivered, which the caller counts and logs.
 */
export class NdjsonFileSink implements StatusEventSink {
  private sequence = 0;

  constructor(
    readonly file: string,
    private readonly account = '000000000000',
    private readonly region = 'local',
  ) {}

  async put(entries: readonly StatusEventEntry[]): Promise<StatusEventEntry[]> {
    if (entries.length === 0) return [];
    const lines = entries.map((e) =>
      JSON.stringify({
        version: '0',
        id: `local-${process.pid}-${++this.sequence}`,
        'detail-type': e.DetailType,
        source: e.Source,
        account: this.account,
        time: e.Time.replace(/\.\d{3}Z$/, 'Z'),
        region: this.region,
        resources: [],
        detail: JSON.parse(e.Detail) as unknown,
      }),
    );
    try {
      await mkdir(path.dirname(this.file), { recursive: true });
      await appendFile(this.file, `${lines.join('\n')}\n`);
      return [];
    } catch {
      return [...entries];
    }
  }
}

/**
 * The event retry queue's consumer: puts each parked entry on the bus again. Since the outbox (docs/events.md) nothing
 * parks events there any more; the consumer stays one release so that events parked before the upgrade still go out. a record whose entry the bus still
 * refuses is reported in `batchItemFailures`, so SQS retries it and, after maxReceiveCount, moves it to the retry
 * queue's dead-letter queue (alarm statusEvents; redrive: docs/events.md). A body that is not an entry fails alone.
 */
export async function redriveStatusEvents(
  event: SQSEvent,
  deps: { sink: StatusEventSink; logger: Logger; metrics: Metrics },
): Promise<SQSBatchResponse> {
  const failures: { itemIdentifier: string }[] = [];
  const byEntry = new Map<StatusEventEntry, string>();
  for (const record of event.Records) {
    const parsed = (() => {
      try {
        return StatusEventEntry.safeParse(JSON.parse(record.body));
      } catch {
        return undefined;
      }
    })();
    if (parsed?.success) byEntry.set(parsed.data, record.messageId);
    else {
      deps.logger.error('event retry record is not an event entry', { messageId: record.messageId });
      failures.push({ itemIdentifier: record.messageId });
    }
  }
  const refused = await deps.sink.put([...byEntry.keys()]);
  for (const entry of refused) failures.push({ itemIdentifier: byEntry.get(entry)! });
  const republished = byEntry.size - refused.length;
  deps.metrics.addMetric(METRIC.StatusEventsPublished, MetricUnit.Count, republished);
  if (refused.length) {
    deps.metrics.addMetric(METRIC.StatusEventsParked, MetricUnit.Count, refused.length);
    deps.logger.warn('parked status events still refused by the bus; SQS retries them', { events: refused.length });
  }
  deps.logger.info('parked status events redriven', { records: event.Records.length, republished });
  return { batchItemFailures: failures };
}
