import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import type { Context, SQSEvent } from 'aws-lambda';
import { ProcessorEnv, readEnv } from '../shared/env';
import { logger, metrics } from '../shared/powertools';
import { tracer } from '../shared/tracer';
import { lazySupabaseStore } from '../store/handler-store';
import { SnsAccountNotifier } from './account-notifier';
import { createStatusBatchProcessor } from './process-status-batch';
import { SqsRetryQueue } from './retry-queue';

// Module scope: config is read once per cold start; the client is created on first use and then reused.
const env = readEnv(ProcessorEnv);

const processStatusBatch = createStatusBatchProcessor({
  store: lazySupabaseStore(env),
  logger,
  metrics,
  outageRetries: {
    queue: new SqsRetryQueue(new SQSClient({}), env.QUEUE_URL),
    backoff: { baseSeconds: env.OUTAGE_BACKOFF_BASE_SECONDS, maxSeconds: env.OUTAGE_BACKOFF_MAX_SECONDS },
  },
  accountNotifier:
    env.CRITICAL_TOPIC_ARN && env.WARNING_TOPIC_ARN
      ? new SnsAccountNotifier(new SNSClient({}), { critical: env.CRITICAL_TOPIC_ARN, warning: env.WARNING_TOPIC_ARN })
      : undefined,
});

/**
 * SQS event source (ReportBatchItemFailures) -> processor. Powertools middleware: the tracer's segment, the logger's
 * Lambda context (request id, cold start; keys reset after each invocation) and, inside createStatusBatchProcessor,
 * logMetrics, which publishes the invocation's metrics once, also when it throws.
 */
export const handler = middy((event: SQSEvent, context: Context) => processStatusBatch(event, context))
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger, { resetKeys: true }));
