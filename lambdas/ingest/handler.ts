import { SQSClient } from '@aws-sdk/client-sqs';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { IngestEnv, readEnv } from '../shared/env';
import { logger, metrics } from '../shared/powertools';
import { readJsonSecret, toWebhookCredentials, WebhookSecret } from '../shared/secrets';
import { createIngestHandler } from './ingest-webhook';
import { SqsStatusQueue } from './status-queue';

// Module scope: built once per cold start, reused by every invocation.
const env = readEnv(IngestEnv);
const sqs = new SQSClient({
  // AiSensy gives a webhook 5 s: fail fast enough that the SDK's retries still fit, then answer 503.
  maxAttempts: 3,
  requestHandler: { connectionTimeout: 1_000, requestTimeout: 1_500 },
});

const ingestWebhook = createIngestHandler({
  queue: new SqsStatusQueue(sqs, env.QUEUE_URL),
  logger,
  metrics,
  maxBodyBytes: env.MAX_BODY_BYTES,
  maxStatusesPerWebhook: env.MAX_STATUSES_PER_WEBHOOK,
  packing: { maxStatusesPerMessage: env.MAX_STATUSES_PER_MESSAGE, maxMessageBytes: env.QUEUE_MAX_MESSAGE_BYTES },
  statusTimeWindow: { maxPastMs: env.MAX_STATUS_AGE_DAYS * 86_400_000, maxFutureMs: env.MAX_STATUS_AHEAD_SECONDS * 1000 },
  // Cached by Powertools Parameters for a few minutes: rotations apply without a redeploy.
  credentials: async () => toWebhookCredentials(await readJsonSecret(WebhookSecret, env.WEBHOOK_SECRET_ID)),
  requireAuth: env.REQUIRE_WEBHOOK_AUTH,
});

/** API Gateway (REST, proxy integration) -> ingest. */
export const handler = middy(async (event: APIGatewayProxyEvent) => {
  logger.setCorrelationId(event.requestContext?.requestId);
  return ingestWebhook(event);
}).use(injectLambdaContext(logger, { resetKeys: true }));
