import { mkdirSync } from 'node:fs';
import * as z from 'zod';
import { outageToleranceSeconds, receivesToOutlast } from '../lambdas/domain/outage-backoff';
import { RecipientPolicy } from '../lambdas/domain/status-change-event';
import { hasAnyCredential } from '../lambdas/domain/webhook-auth';
import { readEnv } from '../lambdas/shared/env';
import { toWebhookCredentials, WebhookSecret } from '../lambdas/shared/secrets';
import { DEFAULT_LOCAL_ARCHIVE_DIR } from './file-webhook-archive';
import { sourceAllowList } from './http-server';
import { localOutageBackoff, startLocalPipeline } from './local-pipeline';

/** `npm start`: the whole pipeline on this machine. Every setting has a default; see docs/configuration.md. */
const LocalEnv = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    HOST: z.string().default('127.0.0.1'),
    DATABASE_URL: z.string().optional(),
    DATA_DIR: z.string().default('.data/pglite'),
    // Every authenticated webhook as sent, in the deployed archive's layout (docs/archive.md); `none`: nothing is archived.
    ARCHIVE_DIR: z.string().min(1).default(DEFAULT_LOCAL_ARCHIVE_DIR),
    // What a shutdown could not store is kept here and re-queued at the next start (local/queue-spool.ts).
    SPOOL_FILE: z.string().min(1).default('.data/undelivered-statuses.json'),
    // Status-change events, one JSON line each as EventBridge delivers them (docs/events.md); `none`: no events.
    STATUS_EVENTS_FILE: z.string().min(1).default('.data/events.ndjson'),
    STATUS_EVENT_RECIPIENT: RecipientPolicy.default('masked'),
    // How long a shutdown keeps trying to store what is queued before it keeps the rest in SPOOL_FILE.
    SHUTDOWN_DRAIN_MS: z.coerce.number().int().min(0).max(600_000).default(10_000),
    MAX_BODY_BYTES: z.coerce.number().int().positive().default(1_048_576),
    ALLOWED_SOURCE_CIDRS: z
      .string()
      .default('')
      .transform((v) =>
        v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      ),
    QUEUE_VISIBILITY_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
    // Unset: the fewest receives whose outage backoff outlasts DATABASE_OUTAGE_TOLERANCE_HOURS, as in the stack.
    QUEUE_MAX_RECEIVE_COUNT: z.coerce.number().int().positive().optional(),
    DATABASE_OUTAGE_TOLERANCE_HOURS: z.coerce.number().positive().max(72).default(6),
    PROCESSOR_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(10),
    PROCESSOR_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
    // The same window as the Lambda's (lambdas/shared/env.ts IngestEnv).
    MAX_STATUS_AGE_DAYS: z.coerce.number().int().positive().default(30),
    MAX_STATUS_AHEAD_SECONDS: z.coerce.number().int().positive().default(300),
  })
  .superRefine((env, ctx) => {
    const backoff = localOutageBackoff(env.QUEUE_VISIBILITY_TIMEOUT_MS);
    const tolerance = env.DATABASE_OUTAGE_TOLERANCE_HOURS * 3_600;
    if (
      env.QUEUE_MAX_RECEIVE_COUNT !== undefined &&
      outageToleranceSeconds(env.QUEUE_MAX_RECEIVE_COUNT, backoff) < tolerance
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['QUEUE_MAX_RECEIVE_COUNT'],
        message: `backs off for less than DATABASE_OUTAGE_TOLERANCE_HOURS: use at least ${receivesToOutlast(tolerance, backoff)}, or leave it unset`,
      });
    }
  })
  .transform((env) => ({
    ...env,
    QUEUE_MAX_RECEIVE_COUNT:
      env.QUEUE_MAX_RECEIVE_COUNT ??
      receivesToOutlast(
        env.DATABASE_OUTAGE_TOLERANCE_HOURS * 3_600,
        localOutageBackoff(env.QUEUE_VISIBILITY_TIMEOUT_MS),
      ),
  }));

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
    spoolFile: env.SPOOL_FILE,
    archiveDir: env.ARCHIVE_DIR === 'none' ? undefined : env.ARCHIVE_DIR,
    eventsFile: env.STATUS_EVENTS_FILE === 'none' ? undefined : env.STATUS_EVENTS_FILE,
    eventRecipient: env.STATUS_EVENT_RECIPIENT,
    statusTimeWindow: {
      maxPastMs: env.MAX_STATUS_AGE_DAYS * 86_400_000,
      maxFutureMs: env.MAX_STATUS_AHEAD_SECONDS * 1000,
    },
  });
  const where = env.DATABASE_URL
    ? 'PostgreSQL at DATABASE_URL'
    : env.DATA_DIR === 'memory'
      ? 'embedded PGlite (in memory)'
      : `embedded PGlite in ${env.DATA_DIR}`;
  if (!hasAnyCredential(credentials)) process.stderr.write(openServerWarning(pipeline.url, env.HOST));
  // The first line is read by tests and scripts: keep its shape. One write, so a reader that sees "listening" has the
  // rest of the start report too (two writes to a pipe can arrive in two reads).
  const restored =
    pipeline.restored.messages + pipeline.restored.deadLetters > 0
      ? `re-queued ${pipeline.restored.messages} queue messages and ${pipeline.restored.deadLetters} dead letters kept by the last shutdown in ${env.SPOOL_FILE}\n`
      : '';
  const events =
    env.STATUS_EVENTS_FILE === 'none' ? '' : `  status-change events: ${env.STATUS_EVENTS_FILE} (one JSON line each)\n`;
  const archive = env.ARCHIVE_DIR === 'none' ? 'none' : `${env.ARCHIVE_DIR}/webhooks (npm run replay)`;
  process.stdout.write(
    `listening on ${pipeline.url} (database: ${where})\n  POST ${pipeline.url}/webhook   GET ${pipeline.url}/health   live report: ${pipeline.url}/dashboard\n  webhook archive: ${archive}\n${events}${restored}`,
  );

  let closing = false;
  const shutdown = async () => {
    if (closing) return;
    closing = true;
    process.stdout.write(
      `shutting down: webhooks now get 503; storing what is queued (up to ${env.SHUTDOWN_DRAIN_MS} ms)\n`,
    );
    const report = await pipeline.shutdown(env.SHUTDOWN_DRAIN_MS);
    // Said every time, so a person reading the terminal knows whether every 200 became a row.
    if (report.unstored.messages === 0) process.stdout.write('shutdown: every accepted status was stored\n');
    else {
      process.stdout.write(
        `shutdown: ${report.unstored.statuses} accepted statuses (${report.unstored.messages} queue messages) could not be stored; ` +
          `kept in ${report.spoolFile}, re-queued at the next npm start\n`,
      );
    }
    if (report.deadLetters.messages > 0) {
      process.stdout.write(
        `shutdown: ${report.deadLetters.statuses} statuses in ${report.deadLetters.messages} dead letters kept in ${report.spoolFile}\n`,
      );
    }
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
    `No META_APP_SECRET, AISENSY_WEBHOOK_SECRET or WEBHOOK_SHARED_TOKEN is set: POST /webhook, GET /report,`,
    `GET /dashboard and GET /delivery-health at ${url} answer ANY caller${loopback ? ' on this machine' : ` that can reach ${host}: other machines included`}.`,
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
