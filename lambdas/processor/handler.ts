import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { Context, SQSEvent } from 'aws-lambda';
import { ProcessorEnv, readEnv } from '../shared/env';
import { logger, metrics } from '../shared/powertools';
import { tracer } from '../shared/tracer';
import { readJsonSecret, SupabaseSecret } from '../shared/secrets';
import type { StatusStore } from '../store/status-store';
import { SupabaseStatusStore } from '../store/supabase-status-store';
import { createStatusBatchProcessor } from './process-status-batch';

// Module scope: config is read once per cold start; the client is created on first use and then reused.
const env = readEnv(ProcessorEnv);
let store: Promise<StatusStore> | undefined;

async function createStore(): Promise<StatusStore> {
  const credentials = 'SUPABASE_SECRET_ID' in env ? await readJsonSecret(SupabaseSecret, env.SUPABASE_SECRET_ID) : env;
  return new SupabaseStatusStore({ url: credentials.SUPABASE_URL, serviceRoleKey: credentials.SUPABASE_SERVICE_ROLE_KEY });
}

const processStatusBatch = createStatusBatchProcessor({
  store: () => {
    // A failed secret read is not cached: the next batch tries again.
    store ??= createStore().catch((error: unknown) => {
      store = undefined;
      throw error;
    });
    return store;
  },
  logger,
  metrics,
});

/** SQS event source (ReportBatchItemFailures) -> processor. */
export const handler = middy((event: SQSEvent, context: Context) => processStatusBatch(event, context))
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger, { resetKeys: true }));
