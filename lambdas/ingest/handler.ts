import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import { INGEST_BUDGET } from '../domain/ingest-budget';
import { withDeadline } from '../shared/deadline';
import { IngestEnv, readEnv } from '../shared/env';
import { logger, metrics } from '../shared/powertools';
import { readJsonSecret, toWebhookCredentials, WebhookSecret } from '../shared/secrets';
import { createIngestHandler } from './ingest-webhook';
import { SqsStatusQueue } from './status-queue';
import { FirehoseWebhookArchive } from './webhook-archive';

// Module scope: built once per cold start, reused by every invocation. Every call on the path has a deadline and
// the clients' attempts fit inside it, so the worst case answers 503 well inside the provider's 5 s (the budget).
// `throwOnRequestTimeout`: without it the SDK's requestTimeout only logs a warning and the attempt waits on forever
// (measured: the former 3 x 1.5 s configuration never answered an SQS endpoint that hangs).
const env = readEnv(IngestEnv);
const budget = INGEST_BUDGET;
const sqs = new SQSClient({
  maxAttempts: budget.queueAttempts,
  requestHandler: {
    connectionTimeout: budget.queueConnectMs,
    requestTimeout: budget.queueRequestMs,
    throwOnRequestTimeout: true,
  },
});
// Beside the queue send, within its own deadline: a slow archive never delays the answer beyond the queue's.
const firehose = env.ARCHIVE_STREAM_NAME
  ? new FirehoseClient({
      maxAttempts: budget.archiveAttempts,
      requestHandler: {
        connectionTimeout: budget.archiveConnectMs,
        requestTimeout: budget.archiveRequestMs,
        throwOnRequestTimeout: true,
      },
    })
  : undefined;
const secrets = new SecretsProvider({
  awsSdkV3Client: new SecretsManagerClient({
    maxAttempts: budget.secretAttempts,
    requestHandler: {
      connectionTimeout: budget.secretConnectMs,
      requestTimeout: budget.secretRequestMs,
      throwOnRequestTimeout: true,
    },
  }),
});

const ingestWebhook = createIngestHandler({
  queue: new SqsStatusQueue(sqs, env.QUEUE_URL, budget.queueSendMs),
  archive:
    firehose && env.ARCHIVE_STREAM_NAME
      ? new FirehoseWebhookArchive(firehose, env.ARCHIVE_STREAM_NAME, budget.archiveWriteMs)
      : undefined,
  logger,
  metrics,
  maxBodyBytes: env.MAX_BODY_BYTES,
  maxStatusesPerWebhook: env.MAX_STATUSES_PER_WEBHOOK,
  packing: { maxStatusesPerMessage: env.MAX_STATUSES_PER_MESSAGE, maxMessageBytes: env.QUEUE_MAX_MESSAGE_BYTES },
  statusTimeWindow: {
    maxPastMs: env.MAX_STATUS_AGE_DAYS * 86_400_000,
    maxFutureMs: env.MAX_STATUS_AHEAD_SECONDS * 1000,
  },
  // Cached by Powertools Parameters for a few minutes: rotations apply without a redeploy.
  credentials: () =>
    withDeadline(
      budget.secretReadMs,
      async () => toWebhookCredentials(await readJsonSecret(WebhookSecret, env.WEBHOOK_SECRET_ID, secrets)),
      () => new Error(`the webhook secret was not read within ${budget.secretReadMs} ms`),
    ),
  requireAuth: env.REQUIRE_WEBHOOK_AUTH,
});

/**
 * API Gateway (REST proxy integration, or HTTP API with payload format 1.0 or 2.0) -> ingest. Powertools middleware: the logger's Lambda context (request id,
 * cold start; keys reset after each request) and, inside createIngestHandler, logMetrics, which publishes the
 * request's metrics once. The correlation id is set by hand: the logger's `correlationIdPath` option needs the
 * JMESPath package, which is not installed (and would weigh on this function's cold start).
 */
export const handler = middy(ingestWebhook)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .before((request) => {
    // Returns nothing: a `before` step that returned a value would be middy's early response.
    logger.setCorrelationId(request.event.requestContext?.requestId);
  });
