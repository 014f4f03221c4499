import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { SNSClient } from '@aws-sdk/client-sns';
import middy from '@middy/core';
import { readEnv, SweeperEnv } from '../shared/env';
import { logger, metrics } from '../shared/powertools';
import { tracer } from '../shared/tracer';
import { lazySupabaseStore } from '../shared/supabase-store';
import { SnsSummaryNotifier } from './summary-notifier';
import { createSweeper } from './sweep-delivery-health';

// Module scope: config is read once per cold start; the client is created on first use and then reused.
const env = readEnv(SweeperEnv);

const sweep = createSweeper({
  store: lazySupabaseStore({ SUPABASE_SECRET_ID: env.SUPABASE_SECRET_ID }),
  metrics,
  logger,
  windows: {
    deliveryWindowMinutes: env.DELIVERY_WINDOW_MINUTES,
    deliveryGraceMinutes: env.DELIVERY_GRACE_MINUTES,
    readWindowHours: env.READ_WINDOW_HOURS,
    readGraceMinutes: env.READ_GRACE_MINUTES,
    undeliveredAfterMinutes: env.UNDELIVERED_AFTER_MINUTES,
  },
  notifier: env.SUMMARY_TOPIC_ARN ? new SnsSummaryNotifier(tracer.captureAWSv3Client(new SNSClient({})), env.SUMMARY_TOPIC_ARN) : undefined,
});

/** EventBridge schedule -> sweeper. */
export const handler = middy((event: unknown) => sweep(event))
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger, { resetKeys: true }));
