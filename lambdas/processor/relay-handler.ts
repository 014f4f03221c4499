import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { RelayEnv, readEnv } from '../shared/env';
import { logger, metrics } from '../shared/powertools';
import { tracer } from '../shared/tracer';
import { lazySupabaseStore } from '../store/handler-store';
import { drainStatusEvents, RELAY_SETTINGS } from './status-event-relay';
import { EventBridgeSink } from './status-events';

// Module scope: config is read once per cold start; the clients are created once and reused.
const env = readEnv(RelayEnv);
const store = lazySupabaseStore(env);
const sink = new EventBridgeSink(new EventBridgeClient({}), env.STATUS_EVENT_BUS_NAME);
const settings = { ...RELAY_SETTINGS, lingerMs: env.STATUS_EVENT_RELAY_LINGER_SECONDS * 1000 };

/**
 * The status-change events' relay, invoked every minute by an EventBridge schedule (lib/constructs/status-event-relay.ts):
 * drains the outbox the processor writes onto the bus, then lingers while events keep coming (status-event-relay.ts).
 * A second function with its own role, bundled from this folder because it shares the processor's event code: it may
 * only read the Supabase secret and put events on the bus.
 */
export const handler = middy(async (_event: unknown, context: Context) =>
  drainStatusEvents(
    {
      outbox: await store(),
      sink,
      recipientPolicy: env.STATUS_EVENT_RECIPIENT,
      logger,
      metrics,
      // Always there in Lambda; a harness's plain context object may lack it (no limit then, and the linger applies).
      remainingMs: context?.getRemainingTimeInMillis ? () => context.getRemainingTimeInMillis() : undefined,
    },
    settings,
  ),
)
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
