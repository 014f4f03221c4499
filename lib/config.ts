import * as z from 'zod';
import { AlarmSettings, CohortSettings, envName, settingProblems } from '../lambdas/domain/alert-settings';
import { INGEST_TIMEOUT_SECONDS } from '../lambdas/domain/ingest-budget';
import { OUTAGE_BACKOFF_MAX_SECONDS, outageToleranceSeconds, receivesToOutlast, type OutageBackoff } from '../lambdas/domain/outage-backoff';

export { envName };

/**
 * The one typed configuration of the stack. Every key can be set in cdk.json's `context`, on the command line
 * (`npx cdk deploy -c maxReceiveCount=8`) or in the environment under its SCREAMING_SNAKE name
 * (`MAX_RECEIVE_COUNT=8`); the environment wins over context, context over the defaults here.
 */
const list = z
  .union([z.array(z.string()), z.string()])
  .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean));
const bool = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const cidr = z.string().regex(/^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$|^[0-9a-f:]+\/\d{1,3}$/i, 'must be a CIDR such as 203.0.113.0/24');

const emails = list.pipe(z.array(z.email()));

const ConfigShape = z.object({
  stackName: z.string().regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/).default('WhatsAppDeliveryTracker'),

  /** Existing Secrets Manager secret (name or ARN) holding {"SUPABASE_URL", "SUPABASE_SERVICE_ROLE_KEY"}. */
  supabaseSecret: z.string().min(1).default('whatsapp-delivery-tracker/supabase'),
  /**
   * Existing secret (name or ARN) holding the webhook credentials: any of {"META_APP_SECRET",
   * "AISENSY_WEBHOOK_SECRET", "WEBHOOK_SHARED_TOKEN", "WEBHOOK_VERIFY_TOKEN"}, each of the first three with a
   * `*_PREVIOUS` twin during a rotation.
   */
  webhookSecret: z.string().min(1).default('whatsapp-delivery-tracker/webhook'),
  /**
   * The customer-managed KMS key (key ARN) the two secrets are encrypted with, if not the AWS-managed
   * `aws/secretsmanager`: the functions get kms:Decrypt on it, through Secrets Manager only.
   */
  secretsKmsKeyArn: z.string().regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/, 'must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), not an alias').optional(),
  /** `false` deploys a webhook that accepts unauthenticated calls: only ever on purpose. */
  requireWebhookAuth: bool.default(true),

  /** Steady requests per second the API accepts before answering 429. */
  apiRateLimit: int(1, 10_000).default(1_000),
  /** Requests the API accepts at once above the steady rate. */
  apiBurstLimit: int(1, 5_000).default(2_000),
  /** When set, only these source ranges may call the API (enforced by API Gateway's resource policy). */
  allowedSourceCidrs: list.pipe(z.array(cidr)).default([]),
  /** Bodies larger than this are refused with 413 before parsing. */
  maxBodyBytes: int(1_024, 6_000_000).default(1_048_576),
  /** Statuses accepted in one webhook (Meta sends at most 1,000). */
  maxStatusesPerWebhook: int(1, 100_000).default(5_000),

  /**
   * Receives before a message moves to the dead-letter queue. Unset: the fewest whose outage backoff outlasts
   * `databaseOutageToleranceHours` (10 with the defaults); set: checked against it.
   */
  maxReceiveCount: int(1, 1_000).optional(),
  /**
   * Hours the database may be unreachable without a status reaching the dead-letter queue (they wait, backing off).
   * At most 72: the queue keeps messages 4 days.
   */
  databaseOutageToleranceHours: z.coerce.number().positive().max(72).default(6),
  /** Days the dead-letter queue keeps messages (SQS allows at most 14). */
  dlqRetentionDays: int(1, 14).default(14),

  /**
   * Queue messages per processor invocation (one database call). 100 keeps up with a 50,000-recipient broadcast
   * even when each database call takes 2 s (docs/alarms.md, scenario "database slow").
   */
  processorBatchSize: int(1, 10_000).default(100),
  processorBatchingWindowSeconds: int(0, 300).default(1),
  /** Processor invocations at once: bounds the connections a burst opens on Supabase. */
  processorMaxConcurrency: int(2, 1_000).default(5),
  processorTimeoutSeconds: int(5, 900).default(30),
  processorMemoryMb: int(128, 10_240).default(512),
  /**
   * The ingest's Lambda timeout: the backstop under the provider's 5 s, at least the calls' own deadlines (range and
   * default from lambdas/domain/ingest-budget.ts, which documents the budget).
   */
  ingestTimeoutSeconds: int(INGEST_TIMEOUT_SECONDS.min, INGEST_TIMEOUT_SECONDS.max).default(INGEST_TIMEOUT_SECONDS.default),
  ingestMemoryMb: int(128, 10_240).default(256),

  logRetentionDays: int(1, 3_653).default(30),

  /** Subscribed to the critical, warning and info (daily summary) topics. */
  criticalAlarmEmails: emails.default([]),
  warningAlarmEmails: emails.default([]),
  summaryEmails: emails.default([]),
  /** Per-alarm overrides, e.g. -c 'alarms={"deliveryRate":{"threshold":85}}'. */
  alarms: z.union([z.string().transform((v) => JSON.parse(v) as unknown), z.record(z.string(), z.unknown())]).pipe(AlarmSettings).default(AlarmSettings.parse({})),
  /** UTC hour of the daily summary. */
  dailySummaryHourUtc: int(0, 23).default(8),
  /** Where alarm descriptions and notifications point for what to do: the runbook's published address. */
  runbookUrl: z.string().min(1).default('https://github.com/your-org/whatsapp-delivery-tracker/blob/main/docs/runbook.md'),
  /** The sweeper's interval and the cohort windows (defaults and meaning: lambdas/domain/alert-settings.ts). */
  ...CohortSettings.shape,
});

export const TrackerConfig = ConfigShape.superRefine((config, ctx) => {
    for (const problem of settingProblems(config, config.alarms)) ctx.addIssue({ code: 'custom', ...problem });
    const backoff = outageBackoff(config);
    const tolerance = config.databaseOutageToleranceHours * 3_600;
    if (config.maxReceiveCount !== undefined && outageToleranceSeconds(config.maxReceiveCount, backoff) < tolerance) {
      const hours = (outageToleranceSeconds(config.maxReceiveCount, backoff) / 3_600).toFixed(2);
      ctx.addIssue({
        code: 'custom',
        path: ['maxReceiveCount'],
        message:
          `${config.maxReceiveCount} receives back off for ${hours} h, less than databaseOutageToleranceHours (${config.databaseOutageToleranceHours}): ` +
          `a longer outage would dead-letter statuses. Use maxReceiveCount >= ${receivesToOutlast(tolerance, backoff)} ` +
          `(or leave it unset), or lower databaseOutageToleranceHours`,
      });
    }
    if (config.processorBatchSize > 10 && config.processorBatchingWindowSeconds === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['processorBatchingWindowSeconds'],
        message: 'SQS needs a batching window of at least 1 s for batches larger than 10',
      });
    }
  })
  .transform((config) => ({
    ...config,
    maxReceiveCount: config.maxReceiveCount ?? receivesToOutlast(config.databaseOutageToleranceHours * 3_600, outageBackoff(config)),
  }));
export type TrackerConfig = z.infer<typeof TrackerConfig>;

/** The queue's visibility timeout: 6 × the processor's timeout, as AWS recommends for Lambda event sources. */
export function queueVisibilityTimeoutSeconds(config: { processorTimeoutSeconds: number }): number {
  return config.processorTimeoutSeconds * 6;
}

/** The waits between receives while the database is down: from the visibility timeout, doubling, up to an hour. */
export function outageBackoff(config: { processorTimeoutSeconds: number }): OutageBackoff {
  return { baseSeconds: queueVisibilityTimeoutSeconds(config), maxSeconds: OUTAGE_BACKOFF_MAX_SECONDS };
}

export const CONFIG_KEYS = Object.keys(ConfigShape.shape) as (keyof TrackerConfig)[];


export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Reads and validates the config; a bad value fails with a message naming its key and where it came from. */
export function loadConfig(context: (key: string) => unknown, env: NodeJS.ProcessEnv = process.env): TrackerConfig {
  const raw: Record<string, unknown> = {};
  const source: Record<string, string> = {};
  for (const key of CONFIG_KEYS) {
    const fromEnv = env[envName(key)];
    const fromContext = context(key);
    if (fromEnv !== undefined && fromEnv !== '') {
      raw[key] = fromEnv;
      source[key] = `environment variable ${envName(key)}`;
    } else if (fromContext !== undefined) {
      raw[key] = fromContext;
      source[key] = `context key "${key}"`;
    }
  }
  const result = TrackerConfig.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? '');
      return `${issue.path.join('.') || key} (${source[key] ?? 'default'}): ${issue.message}`;
    });
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  return result.data;
}
