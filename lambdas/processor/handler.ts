import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
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
import { EventBridgeSink, redriveStatusEvents } from './status-events';

// Module scope: config is read once per cold start; the client is created on first use and then reused.
const env = readEnv(ProcessorEnv);
const sqs = new SQSClient({});
const eventSink = env.STATUS_EVENT_BUS_NAME
  ? new EventBridgeSink(new EventBridgeClient({}), env.STATUS_EVENT_BUS_NAME)
  : undefined;

const processStatusBatch = createStatusBatchProcessor({
  store: lazySupabaseStore(env),
  logger,
  metrics,
  outageRetries: {
    queue: new SqsRetryQueue(sqs, env.QUEUE_URL),
    backoff: { baseSeconds: env.OUTAGE_BACKOFF_BASE_SECONDS, maxSeconds: env.OUTAGE_BACKOFF_MAX_SECONDS },
  },
  // Events on: the batch writes them to the outbox in its own transaction; the relay (relay-handler.ts) puts them on the bus.
  statusEvents: eventSink !== undefined,
  accountNotifier:
    env.CRITICAL_TOPIC_ARN && env.WARNING_TOPIC_ARN
      ? new SnsAccountNotifier(new SNSClient({}), { critical: env.CRITICAL_TOPIC_ARN, warning: env.WARNING_TOPIC_ARN })
      : undefined,
});

// The event retry queue's batches (status-change events parked by the release before the outbox) come through the same
// function: no second bundle.
const redrive = middy((event: SQSEvent) => {
  if (!eventSink) throw new Error('STATUS_EVENT_BUS_NAME is not set: parked events cannot be redriven');
  return redriveStatusEvents(event, { sink: eventSink, logger, metrics });
}).use(logMetrics(metrics));

const fromRetryQueue = (event: SQSEvent) =>
  env.STATUS_EVENT_RETRY_QUEUE_ARN !== undefined &&
  event.Records[0]?.eventSourceARN === env.STATUS_EVENT_RETRY_QUEUE_ARN;

/**
 * SQS event sources (ReportBatchItemFailures) -> processor: the status queue's batches are applied; the event retry
 * queue's are put on the bus again. Powertools middleware: the tracer's segment, the logger's Lambda context (request
 * id, cold start; keys reset after each invocation) and logMetrics, which publishes the invocation's metrics once,
 * also when it throws (for status batches, inside createStatusBatchProcessor).
 */
export const handler = middy((event: SQSEvent, context: Context) =>
  fromRetryQueue(event) ? redrive(event, context) : processStatusBatch(event, context),
)
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger, { resetKeys: true }));
