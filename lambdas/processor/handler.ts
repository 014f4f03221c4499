import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSEvent } from 'aws-lambda';
import { ProcessorEnv, readEnv } from '../shared/env';
import { logger } from '../shared/powertools';
import type { StatusStore } from '../store/status-store';
import { SupabaseStatusStore } from '../store/supabase-status-store';
import { createStatusBatchProcessor } from './process-status-batch';

// Module scope: config and the client are created once per cold start and reused.
let store: StatusStore | undefined;
function getStore(): StatusStore {
  if (!store) {
    const env = readEnv(ProcessorEnv);
    store = new SupabaseStatusStore({ url: env.SUPABASE_URL, serviceRoleKey: env.SUPABASE_SERVICE_ROLE_KEY });
  }
  return store;
}

const processStatusBatch = createStatusBatchProcessor({ store: getStore, logger });

/** SQS event source (ReportBatchItemFailures) -> processor. */
export const handler = middy((event: SQSEvent, context: Context) => processStatusBatch(event, context)).use(
  injectLambdaContext(logger, { resetKeys: true }),
);
