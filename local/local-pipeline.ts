import { Metrics } from '@aws-lambda-powertools/metrics';
import { SQSClient } from '@aws-sdk/client-sqs';
import * as z from 'zod';
import { authenticateReader, type WebhookCredentials } from '../lambdas/domain/webhook-auth';
import type { StatusTimeWindow } from '../lambdas/domain/timestamps';
import { createIngestHandler } from '../lambdas/ingest/ingest-webhook';
import { SqsStatusQueue } from '../lambdas/ingest/status-queue';
import { createStatusBatchProcessor } from '../lambdas/processor/process-status-batch';
import { RequestError } from '../lambdas/shared/errors';
import { safeError } from '../lambdas/shared/log-safe';
import { logger, SERVICE_NAME } from '../lambdas/shared/powertools';
import { METRICS_NAMESPACE } from '../lambdas/shared/metric-names';
import { createPgliteExecutor } from '../lambdas/store/pglite-executor';
import { createPostgresExecutor } from '../lambdas/store/postgres-executor';
import type { SqlExecutor } from '../lambdas/store/sql-executor';
import { SqlStatusStore } from '../lambdas/store/sql-status-store';
import { isTimeZone } from '../tools/report-args';
import { maskReportPhones } from '../tools/report-data';
import { sourceFromExecutor, windowsFromQuery } from '../tools/report-source';
import { startLocalHttpServer } from './http-server';
import { LocalQueue } from './local-queue';
import { applyMigrations } from './migrations';
import { QueuePoller } from './queue-poller';
import { startSqsEndpoint, type SqsEndpoint } from './sqs-endpoint';

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
  maxReceiveCount: number;
  batchSize: number;
  concurrency: number;
  /** How far from the receipt a status time may be; `npm start` passes 30 days / 300 s unless configured. @default none */
  statusTimeWindow?: StatusTimeWindow;
}

/** The cohort windows of GET /delivery-health; a bad one is a 400 naming the parameters, never echoing values. */
function cohortWindows(params: URLSearchParams) {
  try {
    return windowsFromQuery(params);
  } catch (error) {
    if (!(error instanceof z.ZodError)) throw error;
    throw new RequestError(400, `invalid cohort windows: ${[...new Set(error.issues.map((i) => i.path.join('.') || 'query'))].join(', ')}`);
  }
}

export interface LocalPipeline {
  url: string;
  database: SqlExecutor;
  queue: LocalQueue;
  sqs: SqsEndpoint;
  poller: QueuePoller;
  close(): Promise<void>;
}

/**
 * The whole pipeline on one machine, built from the same handler factories the Lambda entry points use:
 * HTTP -> ingest handler -> (real AWS SDK) -> local SQS endpoint -> local queue -> processor handler -> Postgres.
 */
export async function startLocalPipeline(options: LocalPipelineOptions): Promise<LocalPipeline> {
  const database = options.databaseUrl
    ? createPostgresExecutor(options.databaseUrl, { max: options.concurrency + 1 })
    : await createPgliteExecutor(options.dataDir === 'memory' ? undefined : options.dataDir);
  await applyMigrations(database);

  const queue = new LocalQueue({
    name: 'status-updates',
    visibilityTimeoutMs: options.visibilityTimeoutMs,
    maxReceiveCount: options.maxReceiveCount,
  });
  const sqs = await startSqsEndpoint(queue);
  const sqsClient = new SQSClient({
    endpoint: sqs.endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 3,
  });

  // EMF goes to stdout like in Lambda; POWERTOOLS_METRICS_DISABLED (default true locally) silences it.
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
  const ingest = createIngestHandler({
    queue: new SqsStatusQueue(sqsClient, sqs.queueUrl),
    logger,
    metrics,
    maxBodyBytes: options.maxBodyBytes,
    statusTimeWindow: options.statusTimeWindow,
    credentials: () => options.credentials,
    requireAuth: false,
  });
  const store = new SqlStatusStore(database);
  const processStatusBatch = createStatusBatchProcessor({ store: () => store, logger, metrics });
  const poller = new QueuePoller(queue, (event) => processStatusBatch(event), {
    batchSize: options.batchSize,
    concurrency: options.concurrency,
    onError: (error) => logger.warn('batch failed; its messages return after the visibility timeout', { error: safeError(error) }),
  });
  poller.start();

  // The embedded database belongs to this process: the operator tools read it through these routes.
  const reports = sourceFromExecutor(database, 'the local database');
  const http = await startLocalHttpServer({
    port: options.port,
    webhook: ingest,
    allowedSourceCidrs: options.allowedSourceCidrs,
    health: () => ({ status: 'ok', database: database.kind, queue: queue.stats() }),
    // The same credentials as /webhook (a shared token in X-Webhook-Token) and, in the server, the same allow-list.
    authorizeRead: (headers) => authenticateReader(headers, options.credentials),
    onRouteError: (path, error) => logger.error('report route failed', { path, error }),
    routes: {
      '/report': async (url) => {
        const from = new Date(url.searchParams.get('from') ?? Date.now() - 86_400_000);
        const to = new Date(url.searchParams.get('to') ?? Date.now());
        if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) throw new RequestError(400, 'from and to must be ISO times');
        const timeZone = url.searchParams.get('timeZone') ?? 'UTC';
        if (!isTimeZone(timeZone)) throw new RequestError(400, 'timeZone must be an IANA time zone name');
        return maskReportPhones(await reports.report({ from, to, timeZone }));
      },
      '/delivery-health': (url) => reports.health(cohortWindows(url.searchParams)),
    },
  });

  return {
    url: http.url,
    database,
    queue,
    sqs,
    poller,
    async close() {
      await http.close();
      await poller.stop();
      await sqs.close();
      sqsClient.destroy();
      await database.close();
    },
  };
}
