import { Metrics } from '@aws-lambda-powertools/metrics';
import { SQSClient } from '@aws-sdk/client-sqs';
import * as z from 'zod';
import { openEmbeddedDatabase } from '../db/embedded-database';
import { applyMigrations } from '../db/migrations';
import { METRICS_NAMESPACE } from '../lambdas/domain/metric-names';
import { OUTAGE_BACKOFF_MAX_SECONDS, type OutageBackoff } from '../lambdas/domain/outage-backoff';
import type { RecipientPolicy } from '../lambdas/domain/status-change-event';
import type { StatusTimeWindow } from '../lambdas/domain/timestamps';
import { authenticateReader, type WebhookCredentials } from '../lambdas/domain/webhook-auth';
import { createIngestHandler } from '../lambdas/ingest/ingest-webhook';
import { SqsStatusQueue } from '../lambdas/ingest/status-queue';
import { createStatusBatchProcessor } from '../lambdas/processor/process-status-batch';
import { NdjsonFileSink } from '../lambdas/processor/status-events';
import { maskReportPhones } from '../lambdas/report/report-data';
import { renderReportHtml } from '../lambdas/report/report-html';
import { sourceFromExecutor, windowsFromQuery } from '../lambdas/report/report-source';
import { RequestError } from '../lambdas/shared/errors';
import { safeError } from '../lambdas/shared/log-safe';
import { logger, metricsNotices, SERVICE_NAME } from '../lambdas/shared/powertools';
import { createPgliteExecutor } from '../lambdas/store/pglite-executor';
import { createPostgresExecutor } from '../lambdas/store/postgres-executor';
import type { SqlExecutor } from '../lambdas/store/sql-executor';
import { SqlTrackerStore } from '../lambdas/store/sql-tracker-store';
import { FileWebhookArchive } from './file-webhook-archive';
import { startLocalHttpServer } from './http-server';
import { LocalQueue } from './local-queue';
import { startLocalRelay } from './local-relay';
import { QueuePoller } from './queue-poller';
import { countStatuses, readQueueSpool, removeQueueSpool, writeQueueSpool } from './queue-spool';
import { dashboardQuery, reportQuery } from './report-query';
import { type SqsEndpoint, startSqsEndpoint } from './sqs-endpoint';

export interface LocalPipelineOptions {
  port: number;
  /** A PostgreSQL connection string; when absent the embedded PGlite is used. */
  databaseUrl?: string;
  /** PGlite's directory; `memory` keeps it in memory. */
  dataDir: string;
  maxBodyBytes: number;
  /** Unset lists mean that method is off; with none at all, webhooks are accepted unauthenticated. */
  credentials: WebhookCredentials;
  /** The stand-in for API Gateway's resource policy: other sources get 403 before the handler runs. */
  allowedSourceCidrs: string[];
  visibilityTimeoutMs: number;
  /** Receives before the local DLQ; main.ts derives it from the outage tolerance (localOutageBackoff). */
  maxReceiveCount: number;
  /** The queue's clock; tests pass a simulated one to play hours of outage backoff. @default Date.now */
  now?: () => number;
  /**
   * Where a shutdown keeps what it could not store, re-queued at the next start (local/queue-spool.ts).
   * @default none: nothing is kept (tests)
   */
  spoolFile?: string;
  batchSize: number;
  concurrency: number;
  /**
   * Where status-change events go, one JSON line each, in EventBridge's envelope (docs/events.md).
   * @default none: no events (tests)
   */
  eventsFile?: string;
  /** What the events say of the phone number. @default masked */
  eventRecipient?: RecipientPolicy;
  /** How far from the receipt a status time may be; `npm start` passes 30 days / 300 s unless configured. @default none */
  statusTimeWindow?: StatusTimeWindow;
  /** Where every authenticated webhook is archived (docs/archive.md); `npm start`: `.data/archive`. @default none */
  archiveDir?: string;
}

/** The cohort windows of GET /delivery-health; a bad one is a 400 naming the parameters, never echoing values. */
function cohortWindows(params: URLSearchParams) {
  try {
    return windowsFromQuery(params);
  } catch (error) {
    if (!(error instanceof z.ZodError)) throw error;
    throw new RequestError(
      400,
      `invalid cohort windows: ${[...new Set(error.issues.map((i) => i.path.join('.') || 'query'))].join(', ')}`,
    );
  }
}

/** What a shutdown stored and what it kept for the next start. */
export interface ShutdownReport {
  /** Queue messages, and the statuses in them, that could not be stored before the deadline. */
  unstored: { messages: number; statuses: number };
  deadLetters: { messages: number; statuses: number };
  /** Where they were kept, when there was anything to keep and a spool file is configured. */
  spoolFile?: string;
}

export interface LocalPipeline {
  url: string;
  database: SqlExecutor;
  queue: LocalQueue;
  sqs: SqsEndpoint;
  poller: QueuePoller;
  /** Queue messages and dead letters re-queued from the spool at start. */
  restored: { messages: number; deadLetters: number };
  /** The status-event relay (with an events file): kick() drains the outbox now, idle() waits for the drain. */
  relay?: { kick(): void; idle(): Promise<void> };
  /**
   * Stops accepting webhooks (503: the provider retries elsewhere or later), stores what it can within `drainMs`,
   * keeps the rest in the spool file, and closes everything.
   */
  shutdown(drainMs: number): Promise<ShutdownReport>;
  close(): Promise<void>;
}

/** The deployed backoff over the local visibility timeout: from it, doubling, up to an hour. */
export function localOutageBackoff(visibilityTimeoutMs: number): OutageBackoff {
  return { baseSeconds: visibilityTimeoutMs / 1000, maxSeconds: OUTAGE_BACKOFF_MAX_SECONDS };
}

/**
 * The whole pipeline on one machine, built from the same handler factories the Lambda entry points use:
 * HTTP -> ingest handler -> (real AWS SDK) -> local SQS endpoint -> local queue -> processor handler -> Postgres.
 */
export async function startLocalPipeline(options: LocalPipelineOptions): Promise<LocalPipeline> {
  const database = options.databaseUrl
    ? createPostgresExecutor(options.databaseUrl, { max: options.concurrency + 1, unreachableSetting: 'DATABASE_URL' })
    : options.dataDir === 'memory'
      ? await createPgliteExecutor()
      : await openEmbeddedDatabase(options.dataDir, 'npm start');
  await applyMigrations(database);

  const queue = new LocalQueue({
    name: 'status-updates',
    visibilityTimeoutMs: options.visibilityTimeoutMs,
    maxReceiveCount: options.maxReceiveCount,
    now: options.now,
  });
  // What the last shutdown could not store, back in the queue before anything new arrives.
  const spooled = options.spoolFile ? readQueueSpool(options.spoolFile) : undefined;
  for (const body of spooled?.queued ?? []) queue.send(body);
  for (const body of spooled?.dead_letters ?? []) queue.addDeadLetter(body);
  if (options.spoolFile && spooled) removeQueueSpool(options.spoolFile);
  const restored = { messages: spooled?.queued.length ?? 0, deadLetters: spooled?.dead_letters.length ?? 0 };
  const sqs = await startSqsEndpoint(queue);
  const sqsClient = new SQSClient({
    endpoint: sqs.endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 3,
  });

  // EMF goes to stdout like in Lambda; POWERTOOLS_METRICS_DISABLED (default true locally) silences it.
  const metrics = new Metrics({
    namespace: METRICS_NAMESPACE,
    serviceName: SERVICE_NAME,
    logger: metricsNotices(logger),
  });
  const ingest = createIngestHandler({
    queue: new SqsStatusQueue(sqsClient, sqs.queueUrl),
    logger,
    metrics,
    maxBodyBytes: options.maxBodyBytes,
    statusTimeWindow: options.statusTimeWindow,
    archive: options.archiveDir ? new FileWebhookArchive(options.archiveDir) : undefined,
    credentials: () => options.credentials,
    requireAuth: false,
  });
  const store = new SqlTrackerStore(database);
  // As deployed: while the database is down, the batch's messages wait longer before each receive (the local queue
  // plays SQS's ChangeMessageVisibility), so a long outage costs delay, not dead letters.
  const processStatusBatch = createStatusBatchProcessor({
    store: () => store,
    logger,
    metrics,
    outageRetries: { queue, backoff: localOutageBackoff(options.visibilityTimeoutMs) },
    // Status-change events as deployed: written to the outbox in the batch's transaction, then drained by the relay,
    // which appends them to a file instead of the bus. What the file refuses stays in the outbox and is tried again.
    statusEvents: Boolean(options.eventsFile),
  });
  const relay = options.eventsFile
    ? startLocalRelay({
        outbox: store,
        sink: new NdjsonFileSink(options.eventsFile),
        recipientPolicy: options.eventRecipient ?? 'masked',
        logger,
        metrics,
      })
    : undefined;
  const poller = new QueuePoller(queue, (event) => processStatusBatch(event).finally(() => relay?.kick()), {
    batchSize: options.batchSize,
    concurrency: options.concurrency,
    onError: (error) =>
      logger.warn('batch failed; its messages return after the visibility timeout', { error: safeError(error) }),
  });
  poller.start();

  // The embedded database belongs to this process: the operator tools read it through these routes.
  const reports = sourceFromExecutor(database, 'the local database');
  // Shutting down: webhooks get 503 (never a 200 for a status this process may not keep); those already being
  // ingested finish first, so that their messages are in the queue when it is drained and spooled.
  let closing = false;
  let ingesting = 0;
  const webhook: typeof ingest = async (event) => {
    if (closing)
      return {
        statusCode: 503,
        headers: { 'content-type': 'application/json', 'retry-after': '30' },
        body: JSON.stringify({ error: 'shutting down' }),
      };
    ingesting++;
    try {
      return await ingest(event);
    } finally {
      ingesting--;
    }
  };
  const http = await startLocalHttpServer({
    port: options.port,
    webhook,
    allowedSourceCidrs: options.allowedSourceCidrs,
    health: () => ({ status: 'ok', database: database.kind, queue: queue.stats() }),
    // The same credentials as /webhook (a shared token in X-Webhook-Token) and, in the server, the same allow-list.
    authorizeRead: (headers) => authenticateReader(headers, options.credentials),
    onRouteError: (path, error) => logger.error('report route failed', { path, error }),
    routes: {
      // The period as /dashboard reads it; the re-send list's age as the tool read it from the deployed settings.
      '/report': async (url) =>
        maskReportPhones(
          await reports.report({
            ...reportQuery(url.searchParams),
            undeliveredAfterMinutes: cohortWindows(url.searchParams).undeliveredAfterMinutes,
          }),
        ),
      '/delivery-health': (url) => reports.health(cohortWindows(url.searchParams)),
    },
    // The HTML report of `npm run report -- --html`, live: same figures as /report (phones masked), reloading itself.
    pages: {
      '/dashboard': async (url) => {
        const { refreshSeconds, ...period } = dashboardQuery(url.searchParams);
        return renderReportHtml(maskReportPhones(await reports.report(period)), new Date(), { refreshSeconds });
      },
    },
  });

  const close = async () => {
    await http.close();
    await poller.stop();
    await relay?.stop();
    await sqs.close();
    sqsClient.destroy();
    await database.close();
  };

  return {
    url: http.url,
    database,
    queue,
    sqs,
    poller,
    restored,
    relay,
    async shutdown(drainMs) {
      closing = true;
      const deadline = Date.now() + drainMs;
      while (ingesting > 0 && Date.now() < deadline) await sleep(10);
      // One more try for everything, now: a message waiting out an outage backoff would otherwise not be tried.
      queue.expireVisibility();
      poller.wake();
      await poller.drained(Math.max(0, deadline - Date.now())).catch(() => undefined);
      // A batch still in a database call past the deadline is kept too: applying it twice changes nothing.
      await Promise.race([poller.stop(), sleep(Math.max(0, deadline - Date.now()))]);
      const { queued, deadLetters } = queue.contents();
      const report: ShutdownReport = {
        unstored: { messages: queued.length, statuses: countStatuses(queued) },
        deadLetters: { messages: deadLetters.length, statuses: countStatuses(deadLetters) },
      };
      if (options.spoolFile && queued.length + deadLetters.length > 0) {
        writeQueueSpool(options.spoolFile, { queued, dead_letters: deadLetters });
        report.spoolFile = options.spoolFile;
      }
      await close();
      return report;
    },
    close,
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
