import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, SQSEvent, SQSRecord } from 'aws-lambda';
import type { StatusUpdate } from '../../lambdas/domain/status-update';
import { DEFAULT_STATUS_TIME_WINDOW } from '../../lambdas/domain/timestamps';
import { createIngestHandler } from '../../lambdas/ingest/ingest-webhook';
import type { StatusQueue } from '../../lambdas/ingest/status-queue';
import { createStatusBatchProcessor } from '../../lambdas/processor/process-status-batch';
import type { RetryQueue } from '../../lambdas/processor/retry-queue';
import type { HealthStore, HealthWindows } from '../../lambdas/store/health-store';
import type { SqlExecutor } from '../../lambdas/store/sql-executor';
import { SqlTrackerStore } from '../../lambdas/store/sql-tracker-store';
import type { StatusStore } from '../../lambdas/store/status-store';
import { createSweeper } from '../../lambdas/sweeper/sweep-delivery-health';
import { providerWebhook } from '../provider-webhooks';
import { AlarmEvaluator, MetricStore, metricKey, type Notification } from './cloudwatch';
import { CapturingMetrics, ingestEmf } from './emf-capture';
import type { StackModel } from './stack-model';
import type { StatusEvent } from './traffic';

const MINUTE = 60_000;

/** What goes wrong, and when (ms). */
export interface Faults {
  /** From then on every webhook carries a stale token (a rotated secret): the ingest answers 401. */
  refusedFrom?: number;
  /** The database refuses connections in these ranges. */
  databaseDown?: { from: number; to: number }[];
  /** Every database call takes `ms` in this range. */
  databaseSlow?: { from: number; to: number; ms: number };
  /** The sweeper's schedule stops from then on. */
  sweeperStoppedFrom?: number;
}

export interface SimulationInput {
  model: StackModel;
  executor: SqlExecutor;
  events: StatusEvent[];
  start: number;
  end: number;
  faults?: Faults;
  /** Database call time when nothing is wrong. @default 20 */
  healthyDatabaseMs?: number;
  /** Called once a simulated hour, for progress output. */
  onHour?: (at: number) => void;
}

export interface SimulationResult {
  notifications: Notification[];
  /** Webhook requests sent, and refused (4xx). */
  requests: number;
  refused: number;
  /** Statuses stored by the processor; messages dead-lettered. */
  statusesStored: number;
  deadLettered: number;
  /** Wall-clock milliseconds spent in each part, to see what a long simulation costs. */
  timings: { ingest: number; processor: number; sweeper: number; alarms: number };
}

interface QueuedMessage {
  id: string;
  body: string;
  sentAt: number;
  visibleAt: number;
  receives: number;
}

class DatabaseUnavailableError extends Error {
  override readonly name = 'DatabaseUnavailableError';
  readonly code = 'ECONNREFUSED';
}

/**
 * The real ingest handler, processor and sweeper (the functions the Lambda handlers wrap) on a simulated clock, over
 * a real database, with SQS, Lambda and API Gateway reduced to what their metrics show; every metric lands in a
 * MetricStore and the template's alarms are evaluated at the end of every simulated minute.
 */
export async function simulatePipeline(input: SimulationInput): Promise<SimulationResult> {
  const { model, faults = {} } = input;
  const store = new MetricStore();
  const evaluator = new AlarmEvaluator(model.alarms, store, input.start);
  const silent = new Logger({ logLevel: 'SILENT' });
  let now = input.start;
  let clockMs = 0;
  const healthyMs = input.healthyDatabaseMs ?? 20;

  const aws = (namespace: string, name: string, dims: Record<string, string>, value: number, at = now) =>
    store.put(metricKey(namespace, name, dims), at, value);
  const emfSink = (emf: Record<string, unknown>) => ingestEmf(store, emf, now);

  // The database, with the faults of the scenario; every call advances the simulated clock by its duration.
  const sql = new SqlTrackerStore(input.executor);
  const databaseCall = async <T>(call: () => Promise<T>): Promise<T> => {
    if (faults.databaseDown?.some((d) => now >= d.from && now < d.to))
      throw new DatabaseUnavailableError('connect ECONNREFUSED (simulated outage)');
    const slow =
      faults.databaseSlow && now >= faults.databaseSlow.from && now < faults.databaseSlow.to
        ? faults.databaseSlow.ms
        : healthyMs;
    clockMs += slow;
    return call();
  };
  const database: StatusStore & HealthStore = {
    applyStatusUpdates: (updates: readonly StatusUpdate[]) => databaseCall(() => sql.applyStatusUpdates(updates)),
    recordAccountEvents: (events) => databaseCall(() => sql.recordAccountEvents(events)),
    deliveryHealth: (windows: HealthWindows, asOf?: Date) => databaseCall(() => sql.deliveryHealth(windows, asOf)),
    deliverySummary: (from: Date, to: Date) => databaseCall(() => sql.deliverySummary(from, to)),
    close: async () => undefined,
  };

  // SQS, as far as the processor and the alarms see it.
  let queue: QueuedMessage[] = [];
  // The queued messages by id (= receipt handle), for ChangeMessageVisibility: a long outage backs off thousands of
  // batches a minute while the queue holds every message of a broadcast, and scanning the queue for each was quadratic.
  const queuedById = new Map<string, QueuedMessage>();
  const deadLetters: QueuedMessage[] = [];
  let serial = 0;
  const statusQueue: StatusQueue = {
    async send(requests) {
      for (const bodies of requests) {
        for (const body of bodies) {
          const message = { id: `m${serial++}`, body, sentAt: now, visibleAt: now, receives: 0 };
          queue.push(message);
          queuedById.set(message.id, message);
        }
      }
    },
  };

  const ingest = createIngestHandler({
    queue: statusQueue,
    logger: silent,
    metrics: new CapturingMetrics(model.serviceNames.ingest, emfSink),
    maxBodyBytes: 1_048_576,
    credentials: () => ({ metaAppSecrets: [], aisensySecrets: [], sharedTokens: ['simulated-provider-token'] }),
    requireAuth: true,
    // As deployed: statuses implausibly far from their receipt are refused (receipt = the simulated arrival).
    statusTimeWindow: DEFAULT_STATUS_TIME_WINDOW,
  });
  // ChangeMessageVisibility on the simulated queue: the processor's outage backoff (receipt handle = message id).
  const retryQueue: RetryQueue = {
    async delayRetries(delays) {
      for (const { receiptHandle, delaySeconds } of delays) {
        const message = queuedById.get(receiptHandle);
        if (message) message.visibleAt = now + delaySeconds * 1000;
      }
    },
  };
  const processor = createStatusBatchProcessor({
    store: () => database,
    logger: silent,
    metrics: new CapturingMetrics(model.serviceNames.processor, emfSink),
    clock: () => clockMs,
    outageRetries: { queue: retryQueue, backoff: model.processor.outageBackoff },
  });
  const alertNotifications: Notification[] = [];
  const sweep = createSweeper({
    store: () => database,
    logger: silent,
    metrics: new CapturingMetrics(model.serviceNames.sweeper, emfSink),
    cohorts: model.sweeper.cohorts,
    failureSpike: model.sweeper.failureSpike,
    alertNotifier: {
      publish: async (subject, message) => {
        alertNotifications.push({
          at: now,
          alarm: 'failureSpike',
          severity: 'warning',
          state: 'ALARM',
          description: `${subject}\n${message}`,
        });
      },
    },
    now: () => new Date(now),
    clock: () => clockMs,
  });

  const events = [...input.events].filter((e) => e.arrival < input.end).sort((a, b) => a.arrival - b.arrival);
  let next = 0;
  let requests = 0;
  let refused = 0;
  let statusesStored = 0;
  const { dimensions: dim } = model;
  // The API's metrics are put for every webhook: their keys once.
  const api = Object.fromEntries(
    (['Count', '4XXError', '5XXError', 'Latency'] as const).map((name) => [
      name,
      metricKey('AWS/ApiGateway', name, { ApiName: dim.apiName }),
    ]),
  ) as Record<'Count' | '4XXError' | '5XXError' | 'Latency', string>;
  const visibilityMs = model.queue.visibilityTimeoutSeconds * 1000;
  const timings = { ingest: 0, processor: 0, sweeper: 0, alarms: 0 };
  let mark = performance.now();
  const lap = (part: keyof typeof timings) => {
    const t = performance.now();
    timings[part] += t - mark;
    mark = t;
  };

  for (let minuteStart = input.start; minuteStart < input.end; minuteStart += MINUTE) {
    // 1. Webhooks arriving this minute, through API Gateway and the real ingest handler.
    while (next < events.length && events[next]!.arrival < minuteStart + MINUTE) {
      const event = events[next++]!;
      now = event.arrival;
      const token =
        faults.refusedFrom !== undefined && now >= faults.refusedFrom
          ? 'rotated-away-token'
          : 'simulated-provider-token';
      const response = await ingest(apiEvent(event, token, requests));
      requests++;
      const status = response.statusCode;
      if (status >= 400 && status < 500) refused++;
      store.put(api.Count, now, 1);
      store.put(api['4XXError'], now, status >= 400 && status < 500 ? 1 : 0);
      store.put(api['5XXError'], now, status >= 500 ? 1 : 0);
      store.put(api.Latency, now, 40);
    }

    lap('ingest');
    // 2. The processor: up to MaximumConcurrency invocations at a time, each taking a database call's time.
    now = minuteStart;
    const callMs =
      faults.databaseSlow && now >= faults.databaseSlow.from && now < faults.databaseSlow.to
        ? faults.databaseSlow.ms
        : healthyMs;
    const invocations = model.processor.maxConcurrency * Math.max(1, Math.floor(MINUTE / Math.max(callMs, 100)));
    // A failed message stays invisible for the visibility timeout (minutes), so what is visible now is all this
    // minute's invocations can receive.
    const done = new Set<QueuedMessage>();
    // SQS's redrive policy: the receive after the maxReceiveCount-th moves the message to the DLQ, untried.
    const visible: QueuedMessage[] = [];
    for (const message of queue) {
      if (message.visibleAt > now) continue;
      if (message.receives >= model.queue.maxReceiveCount) {
        done.add(message);
        deadLetters.push(message);
      } else visible.push(message);
    }
    for (let i = 0; i < invocations && i * model.processor.batchSize < visible.length; i++) {
      const batch = visible.slice(i * model.processor.batchSize, (i + 1) * model.processor.batchSize);
      for (const message of batch) {
        message.receives++;
        message.visibleAt = now + visibilityMs;
      }
      let failedIds: Set<string>;
      try {
        const response = await processor(sqsEvent(batch, now));
        failedIds = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
        aws('AWS/Lambda', 'Errors', { FunctionName: dim.processor }, 0);
      } catch {
        failedIds = new Set(batch.map((m) => m.id));
        aws('AWS/Lambda', 'Errors', { FunctionName: dim.processor }, 1);
      }
      for (const message of batch) {
        if (!failedIds.has(message.id)) {
          done.add(message);
          statusesStored += (JSON.parse(message.body) as { statuses: unknown[] }).statuses.length;
        }
      }
    }
    if (done.size) {
      queue = queue.filter((m) => !done.has(m));
      for (const message of done) queuedById.delete(message.id);
    }

    lap('processor');
    // 3. The sweeper on its schedule, and the daily summary.
    const minuteOfDay = Math.floor((minuteStart % 86_400_000) / MINUTE);
    const sweeperRuns = faults.sweeperStoppedFrom === undefined || now < faults.sweeperStoppedFrom;
    if (sweeperRuns && minuteOfDay % model.sweeper.intervalMinutes === 0) {
      try {
        await sweep({ kind: 'health' });
        aws('AWS/Lambda', 'Errors', { FunctionName: dim.sweeper }, 0);
      } catch {
        aws('AWS/Lambda', 'Errors', { FunctionName: dim.sweeper }, 1);
      }
    }
    if (sweeperRuns && minuteOfDay === model.sweeper.dailySummaryHourUtc * 60)
      await sweep({ kind: 'daily-summary' }).catch(() => undefined);

    lap('sweeper');
    // 4. What SQS reports every minute.
    const oldest = queue.reduce((min, m) => Math.min(min, m.sentAt), Infinity);
    aws(
      'AWS/SQS',
      'ApproximateAgeOfOldestMessage',
      { QueueName: dim.queue },
      oldest === Infinity ? 0 : Math.round((now - oldest) / 1000),
    );
    aws(
      'AWS/SQS',
      'ApproximateNumberOfMessagesVisible',
      { QueueName: dim.queue },
      queue.filter((m) => m.visibleAt <= now).length,
    );
    aws('AWS/SQS', 'ApproximateNumberOfMessagesVisible', { QueueName: dim.deadLetterQueue }, deadLetters.length);

    // 5. CloudWatch evaluates every alarm at the end of the minute.
    evaluator.evaluate(minuteStart + MINUTE);
    if ((minuteStart + MINUTE) % 3_600_000 === 0) input.onHour?.(minuteStart + MINUTE);
    lap('alarms');
  }

  const notifications = [...evaluator.notifications, ...alertNotifications].sort((a, b) => a.at - b.at);
  const rounded = Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, Math.round(v)])) as typeof timings;
  return { notifications, requests, refused, statusesStored, deadLettered: deadLetters.length, timings: rounded };
}

function apiEvent(e: StatusEvent, token: string, serial: number): APIGatewayProxyEvent {
  const body = JSON.stringify(providerWebhook(e, e.provider));
  return {
    httpMethod: 'POST',
    path: '/webhook',
    resource: '/webhook',
    body,
    isBase64Encoded: false,
    headers: {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      'x-webhook-token': token,
    },
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    requestContext: {
      requestId: `sim-${serial}`,
      requestTimeEpoch: Math.round(e.arrival),
    } as APIGatewayProxyEvent['requestContext'],
  };
}

function sqsEvent(batch: QueuedMessage[], now: number): SQSEvent {
  return {
    Records: batch.map(
      (m): SQSRecord => ({
        messageId: m.id,
        receiptHandle: m.id,
        body: m.body,
        attributes: {
          ApproximateReceiveCount: String(m.receives),
          SentTimestamp: String(m.sentAt),
          SenderId: 'simulated',
          ApproximateFirstReceiveTimestamp: String(now),
        },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:simulated',
        awsRegion: 'eu-west-1',
      }),
    ),
  };
}
