import { mkdirSync } from 'node:fs';
import * as z from 'zod';
import { hasAnyCredential } from '../lambdas/domain/webhook-auth';
import { readEnv } from '../lambdas/shared/env';
import { toWebhookCredentials, WebhookSecret } from '../lambdas/shared/secrets';
import { sourceAllowList } from './http-server';
import { startLocalPipeline } from './local-pipeline';

/** `npm start`: the whole pipeline on this machine. Every setting has a default; see README "Configuration". */
const LocalEnv = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('127.0.0.1'),
  DATABASE_URL: z.string().optional(),
  DATA_DIR: z.string().default('.data/pglite'),
  MAX_BODY_BYTES: z.coerce.number().int().positive().default(1_048_576),
  ALLOWED_SOURCE_CIDRS: z
    .string()
    .default('')
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean)),
  QUEUE_VISIBILITY_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
  QUEUE_MAX_RECEIVE_COUNT: z.coerce.number().int().positive().default(5),
  PROCESSOR_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(10),
  PROCESSOR_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  // The same window as the Lambda's (lambdas/shared/env.ts IngestEnv).
  MAX_STATUS_AGE_DAYS: z.coerce.number().int().positive().default(30),
  MAX_STATUS_AHEAD_SECONDS: z.coerce.number().int().positive().default(300),
});

async function main(): Promise<void> {
  // CloudWatch's EMF lines would drown the local log: off unless asked for.
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  const env = readEnv(LocalEnv);
  // Same names and rules as the keys of the deployed webhook secret: META_APP_SECRET, AISENSY_WEBHOOK_SECRET, ...
  // A blank one (`WEBHOOK_SHARED_TOKEN=`) stops the start, naming the key, rather than silently running open.
  const credentials = toWebhookCredentials(readEnv(WebhookSecret));
  sourceAllowList(env.ALLOWED_SOURCE_CIDRS); // fails early on a malformed CIDR
  if (!env.DATABASE_URL && env.DATA_DIR !== 'memory') mkdirSync(env.DATA_DIR, { recursive: true });
  const pipeline = await startLocalPipeline({
    port: env.PORT,
    databaseUrl: env.DATABASE_URL,
    dataDir: env.DATA_DIR,
    maxBodyBytes: env.MAX_BODY_BYTES,
    credentials,
    allowedSourceCidrs: env.ALLOWED_SOURCE_CIDRS,
    visibilityTimeoutMs: env.QUEUE_VISIBILITY_TIMEOUT_MS,
    maxReceiveCount: env.QUEUE_MAX_RECEIVE_COUNT,
    batchSize: env.PROCESSOR_BATCH_SIZE,
    concurrency: env.PROCESSOR_CONCURRENCY,
    statusTimeWindow: { maxPastMs: env.MAX_STATUS_AGE_DAYS * 86_400_000, maxFutureMs: env.MAX_STATUS_AHEAD_SECONDS * 1000 },
  });
  const where = env.DATABASE_URL ? 'PostgreSQL at DATABASE_URL' : env.DATA_DIR === 'memory' ? 'embedded PGlite (in memory)' : `embedded PGlite in ${env.DATA_DIR}`;
  if (!hasAnyCredential(credentials)) process.stderr.write(openServerWarning(pipeline.url, env.HOST));
  // The first line is read by tests and scripts: keep its shape.
  process.stdout.write(`listening on ${pipeline.url} (database: ${where})\n`);
  process.stdout.write(`  POST ${pipeline.url}/webhook   GET ${pipeline.url}/health\n`);

  let closing = false;
  const shutdown = async () => {
    if (closing) return;
    closing = true;
    await pipeline.poller.drained(5_000).catch(() => undefined);
    await pipeline.close();
    process.exit(0);
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

/**
 * Said loudly at every start without a credential: the local server then accepts webhooks from, and shows its
 * reports to, anyone who can reach it (convenient on a laptop, dangerous on a shared host or `HOST=0.0.0.0`).
 */
function openServerWarning(url: string, host: string): string {
  const loopback = /^(127\.|::1$|localhost$)/.test(host);
  return [
    '',
    '!!! WARNING: AUTHENTICATION IS OFF !!!',
    `No META_APP_SECRET, AISENSY_WEBHOOK_SECRET or WEBHOOK_SHARED_TOKEN is set: POST /webhook, GET /report and`,
    `GET /delivery-health at ${url} answer ANY caller${loopback ? ' on this machine' : ` that can reach ${host}: other machines included`}.`,
    'To close it, start with a token, e.g.  WEBHOOK_SHARED_TOKEN=$(openssl rand -hex 32) npm start',
    'and send it as the X-Webhook-Token header (seed:demo, report and alerts:check read the same variable).',
    '',
    '',
  ].join('\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`npm start failed: ${(error as Error).message}\n`);
  process.exit(1);
});
