import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import * as z from 'zod';
import {
  AlarmSettings,
  CohortSettings,
  DEFAULT_ALARMS,
  envName,
  settingProblems,
} from '../lambdas/domain/alert-settings';
import { INGEST_TIMEOUT_SECONDS } from '../lambdas/domain/ingest-budget';
import {
  OUTAGE_BACKOFF_MAX_SECONDS,
  type OutageBackoff,
  outageToleranceSeconds,
  receivesToOutlast,
} from '../lambdas/domain/outage-backoff';
import { MessageRetentionDays } from '../lambdas/domain/retention';
import { SenderHealthEntry, SenderHealthSettings } from '../lambdas/domain/sender-health';
import { RecipientPolicy } from '../lambdas/domain/status-change-event';

export { envName };

/**
 * The one typed configuration of the stack. Every key can be set in cdk.json's `context`, on the command line
 * (`npx cdk deploy -c maxReceiveCount=8`), in the stage's profile (cdk.json `context.stages.<stage>`), or in the
 * environment under its SCREAMING_SNAKE name (`MAX_RECEIVE_COUNT=8`). Precedence: environment, then the stage's
 * profile, then context, then the defaults here (some of which derive from the stage: see `withStageDefaults`).
 */
const list = z
  .union([z.array(z.string()), z.string()])
  .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean));
const bool = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const cidr = z
  .string()
  .regex(/^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$|^[0-9a-f:]+\/\d{1,3}$/i, 'must be a CIDR such as 203.0.113.0/24');

const emails = list.pipe(z.array(z.email()));

/** The values CloudWatch Logs accepts as a retention (anything else synthesizes and then fails at deploy). */
export const LOG_RETENTION_DAYS = Object.values(RetentionDays).filter(
  (days): days is number => typeof days === 'number' && days !== RetentionDays.INFINITE,
);
const logRetentionDays = z.coerce
  .number()
  .refine((days) => LOG_RETENTION_DAYS.includes(days), `CloudWatch Logs accepts only ${LOG_RETENTION_DAYS.join(', ')}`);

/** AWS tag rules: keys 1-128 characters, values up to 256, and the `aws:` prefix is reserved. */
const tagMap = z
  .union([
    z.record(z.string(), z.string()),
    // `-c tags=team=payments,costCenter=42` from the command line
    z.string().transform((text) =>
      Object.fromEntries(
        text
          .split(',')
          .filter(Boolean)
          .map((pair) => pair.split('=').map((s) => s.trim()) as [string, string]),
      ),
    ),
  ])
  .pipe(z.record(z.string().min(1).max(128), z.string().max(256)))
  .refine(
    (tags) => !Object.keys(tags).some((key) => key.toLowerCase().startsWith('aws:')),
    'tag keys starting with aws: are reserved by AWS',
  );

/** Lower-case, so every name derived from it is valid for every AWS service (stack, API, secret path, tag). */
export const StageName = z
  .string()
  .regex(
    /^[a-z][a-z0-9-]{0,19}$/,
    'a stage name is up to 20 lower-case letters, digits and hyphens, starting with a letter',
  );

const ConfigShape = z.object({
  /**
   * The stage this deployment is (dev, prod, or any name such as pr-123). Every name derives from it, so two stages
   * share nothing in one account; its profile in cdk.json (`context.stages.<stage>`) pins account, region, settings.
   */
  stage: StageName.default('dev'),
  /** The account and region the stage deploys to; unset, whatever the CLI's credentials point at. */
  account: z
    .string()
    .regex(/^\d{12}$/, 'must be a 12-digit AWS account id')
    .optional(),
  region: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d{1,2}$/, 'must be an AWS region such as eu-west-1')
    .optional(),
  /** Default: `WhatsAppDeliveryTracker-<stage>`. */
  stackName: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/)
    .optional(),
  /** Tags on every taggable resource, besides `project` and `stage`. */
  tags: tagMap.default({}),
  /**
   * Keep the queues (and what they hold), the log groups, the report bucket and the webhook archive when the stack is
   * deleted or they are replaced.
   * Default: true for the stage `prod`, false for any other (a dev stack is deleted whole).
   */
  retainData: bool.optional(),

  /**
   * Existing Secrets Manager secret (name or ARN) holding {"SUPABASE_URL", "SUPABASE_SERVICE_ROLE_KEY"}.
   * Default: `whatsapp-delivery-tracker/<stage>/supabase`.
   */
  supabaseSecret: z.string().min(1).optional(),
  /**
   * Existing secret (name or ARN) holding the webhook credentials: any of {"META_APP_SECRET",
   * "AISENSY_WEBHOOK_SECRET", "WEBHOOK_SHARED_TOKEN", "WEBHOOK_VERIFY_TOKEN"}, each of the first three with a
   * `*_PREVIOUS` twin during a rotation. Default: `whatsapp-delivery-tracker/<stage>/webhook`.
   */
  webhookSecret: z.string().min(1).optional(),
  /**
   * The customer-managed KMS key (key ARN) the two secrets are encrypted with, if not the AWS-managed
   * `aws/secretsmanager`: the functions get kms:Decrypt on it, through Secrets Manager only.
   */
  secretsKmsKeyArn: z
    .string()
    .regex(
      /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/,
      'must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), not an alias',
    )
    .optional(),
  /** `false` deploys a webhook that accepts unauthenticated calls: only ever on purpose. */
  requireWebhookAuth: bool.default(true),

  /**
   * A domain of yours for the webhook (e.g. hooks.example.com), so the URL given to AiSensy or Meta survives a
   * replacement of the API. Needs `certificateArn`; with `hostedZoneId` and `hostedZoneName` the DNS record is made too.
   */
  domainName: z
    .string()
    .regex(
      /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
      'must be a lower-case DNS name such as hooks.example.com',
    )
    .optional(),
  /** An ACM certificate for `domainName`, in the stack's region (a regional API). */
  certificateArn: z
    .string()
    .regex(/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/, 'must be an ACM certificate ARN')
    .optional(),
  /** The Route 53 public hosted zone that holds `domainName`: its id (Z...) and its name (example.com). */
  hostedZoneId: z
    .string()
    .regex(/^Z[A-Z0-9]{1,31}$/, 'must be a Route 53 hosted zone id such as Z0123456789ABC')
    .optional(),
  hostedZoneName: z.string().min(1).optional(),

  /**
   * `owner/name` of the GitHub repository whose Actions deploy this stack: read by the deploy-access app
   * (bin/deploy-access.ts), which creates the roles they assume. Not used by the tracker's stack.
   */
  githubRepository: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'must be owner/name, e.g. acme/whatsapp-delivery-tracker')
    .optional(),
  /** The account's GitHub OIDC provider, if one exists already (an account holds one per issuer). */
  githubOidcProviderArn: z
    .string()
    .regex(
      /^arn:aws[a-z-]*:iam::\d{12}:oidc-provider\/token\.actions\.githubusercontent\.com$/,
      'must be the ARN of the token.actions.githubusercontent.com OIDC provider',
    )
    .optional(),

  /**
   * Which API Gateway serves the webhook: `rest` (REST API, $3.50 per million requests: resource policy for the
   * source allow-list, AWS WAF) or `http` (HTTP API, $1.00 per million: the same routes, throttling, access logs and
   * custom domain, but no resource policy and no WAF). docs/deploy.md#rest-or-http-api compares them.
   */
  apiType: z.enum(['rest', 'http']).default('rest'),
  /** Steady requests per second the API accepts before answering 429. */
  apiRateLimit: int(1, 10_000).default(1_000),
  /** Requests the API accepts at once above the steady rate. */
  apiBurstLimit: int(1, 5_000).default(2_000),
  /**
   * When set, only these source ranges may call the API (enforced by the REST API's resource policy; an HTTP API has
   * none, so `apiType: http` refuses it).
   */
  allowedSourceCidrs: list.pipe(z.array(cidr)).default([]),
  /** Bodies larger than this are refused with 413 before parsing. */
  maxBodyBytes: int(1_024, 6_000_000).default(1_048_576),
  /** Statuses accepted in one webhook (Meta sends at most 1,000). */
  maxStatusesPerWebhook: int(1, 100_000).default(5_000),

  /**
   * Receives before a message moves to the dead-letter queue. Unset: the fewest whose outage backoff outlasts
   * `databaseOutageToleranceHours` (11 with the defaults, a test checks it); set: checked against it.
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
  ingestTimeoutSeconds: int(INGEST_TIMEOUT_SECONDS.min, INGEST_TIMEOUT_SECONDS.max).default(
    INGEST_TIMEOUT_SECONDS.default,
  ),
  ingestMemoryMb: int(128, 10_240).default(256),

  logRetentionDays: logRetentionDays.default(30),

  /**
   * Archive every authenticated webhook as sent (Kinesis Data Firehose -> S3, docs/archive.md): what replay
   * (`npm run replay`) rebuilds the table from. `false` leaves out the stream, the bucket and the alarm.
   */
  archiveEnabled: bool.default(true),
  /** Firehose writes an S3 object when this many seconds or `archiveBufferMb` MiB have gathered, whichever first. */
  archiveBufferSeconds: int(0, 900).default(300),
  archiveBufferMb: int(1, 128).default(64),
  /** Days an archived webhook stays in S3 Standard before moving to `archiveStorageClass`. */
  archiveTransitionDays: int(0, 3_650).default(30),
  /**
   * The cheaper storage after `archiveTransitionDays`. Only classes read without a restore, so Athena and replay
   * keep working: Glacier Instant Retrieval (the cheapest of them; 90 days' minimum charge), Standard-IA, or
   * Intelligent-Tiering.
   */
  archiveStorageClass: z.enum(['GLACIER_IR', 'STANDARD_IA', 'INTELLIGENT_TIERING']).default('GLACIER_IR'),
  /** Days after which an archived webhook is deleted. */
  archiveExpirationDays: int(1, 36_500).default(365),
  /**
   * Publish a `WhatsApp Message Status Changed` event on the stack's EventBridge bus (`whatsapp-delivery-tracker-<stage>`)
   * for every change of a message's status (docs/events.md). `false`: no bus, no retry queue, the plain write.
   */
  statusEvents: bool.default(true),
  /** What those events say of the recipient's phone number: `masked` (+91********10) or `omitted` (docs/events.md). */
  statusEventRecipient: RecipientPolicy.default('masked'),

  /** Subscribed to the critical, warning and info (daily summary) topics. */
  criticalAlarmEmails: emails.default([]),
  warningAlarmEmails: emails.default([]),
  summaryEmails: emails.default([]),
  /** Per-alarm overrides, e.g. -c 'alarms={"deliveryRate":{"threshold":85}}'. */
  alarms: z
    .union([z.string().transform((v) => JSON.parse(v) as unknown), z.record(z.string(), z.unknown())])
    .pipe(AlarmSettings)
    .default(AlarmSettings.parse({})),
  /**
   * Senders whose delivery health is published per sender (metrics with the dimension `Sender`), each
   * `{ id: <phone number id or AiSensy project id>, name: 'IN marketing', alarms: true|false }`; `alarms: true`
   * adds that sender's own delivery-rate, undelivered, read-rate and delivery-time alarms (the global settings) and
   * failure-spike notifications. Each sender costs money: docs/alarms.md#alarms-per-sender. Default: none.
   */
  senderHealth: z
    .union([z.string().transform((v) => JSON.parse(v) as unknown), z.array(z.unknown())])
    .pipe(SenderHealthSettings)
    .default([]),
  /**
   * Days the message rows are kept; older ones are deleted by the sweeper in small batches (docs/retention.md).
   * Unset (the default): kept forever.
   */
  retentionDays: MessageRetentionDays.optional(),
  /** UTC hour of the daily summary. */
  dailySummaryHourUtc: int(0, 23).default(8),
  /**
   * The daily summary links to that day's HTML report, stored in a private bucket and shared as a presigned URL
   * (docs/daily-report.md). `false`: no bucket, no link.
   */
  dailyReportLink: bool.default(true),
  /**
   * Hours the report link is valid for (X-Amz-Expires). SigV4 allows at most 7 days, and a URL signed with the
   * sweeper's temporary credentials stops working when they expire, which may be sooner (docs/daily-report.md).
   */
  dailyReportLinkHours: z.coerce
    .number()
    .int()
    .min(1, 'at least 1 hour')
    .max(168, 'a presigned S3 URL (SigV4) lasts at most 7 days (168 hours)')
    .default(12),
  /** Days the reports are kept in their bucket (lifecycle expiry): at least as long as a link works. */
  dailyReportRetentionDays: int(1, 3_650).default(30),
  /** Where alarm descriptions and notifications point for what to do: the runbook's published address. */
  runbookUrl: z
    .string()
    .min(1)
    .default('https://github.com/your-org/whatsapp-delivery-tracker/blob/main/docs/runbook.md'),
  /** The sweeper's interval and the cohort windows (defaults and meaning: lambdas/domain/alert-settings.ts). */
  ...CohortSettings.shape,
});

export const TrackerConfig = ConfigShape.superRefine((config, ctx) => {
  for (const problem of settingProblems(config, config.alarms)) ctx.addIssue({ code: 'custom', ...problem });
  for (const problem of customDomainProblems(config)) ctx.addIssue({ code: 'custom', ...problem });
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
  if (config.apiType === 'http' && config.allowedSourceCidrs.length > 0) {
    ctx.addIssue({
      code: 'custom',
      path: ['allowedSourceCidrs'],
      message:
        'an HTTP API (apiType http) has no resource policy, so the source allow-list cannot be enforced: ' +
        'use apiType rest (the default) to keep it, or remove allowedSourceCidrs',
    });
  }
  if (config.dailyReportRetentionDays * 24 < config.dailyReportLinkHours) {
    ctx.addIssue({
      code: 'custom',
      path: ['dailyReportRetentionDays'],
      message: `reports would expire after ${config.dailyReportRetentionDays} day(s), before their links (dailyReportLinkHours ${config.dailyReportLinkHours})`,
    });
  }
  for (const problem of archiveProblems(config)) ctx.addIssue({ code: 'custom', ...problem });
  if (config.processorBatchSize > 10 && config.processorBatchingWindowSeconds === 0) {
    ctx.addIssue({
      code: 'custom',
      path: ['processorBatchingWindowSeconds'],
      message: 'SQS needs a batching window of at least 1 s for batches larger than 10',
    });
  }
}).transform((config) => ({
  ...config,
  stackName: config.stackName ?? `WhatsAppDeliveryTracker-${config.stage}`,
  supabaseSecret: config.supabaseSecret ?? `whatsapp-delivery-tracker/${config.stage}/supabase`,
  webhookSecret: config.webhookSecret ?? `whatsapp-delivery-tracker/${config.stage}/webhook`,
  retainData: config.retainData ?? config.stage === 'prod',
  maxReceiveCount:
    config.maxReceiveCount ?? receivesToOutlast(config.databaseOutageToleranceHours * 3_600, outageBackoff(config)),
}));
export type TrackerConfig = z.infer<typeof TrackerConfig>;

/** Lifecycle settings S3 would refuse at deploy, or that would pay for storage they do not keep. */
function archiveProblems(config: {
  archiveTransitionDays: number;
  archiveExpirationDays: number;
  archiveStorageClass: string;
}): { path: string[]; message: string }[] {
  const { archiveTransitionDays: transition, archiveExpirationDays: expiration, archiveStorageClass: storage } = config;
  const problems: { path: string[]; message: string }[] = [];
  if (expiration <= transition) {
    problems.push({
      path: ['archiveExpirationDays'],
      message: `archiveExpirationDays (${expiration}) must be later than archiveTransitionDays (${transition}), or nothing ever moves to ${storage}`,
    });
  }
  if (storage === 'STANDARD_IA' && transition < 30) {
    problems.push({
      path: ['archiveTransitionDays'],
      message: `S3 moves objects to STANDARD_IA after 30 days at the earliest, not ${transition}`,
    });
  }
  if (storage === 'GLACIER_IR' && expiration > transition && expiration - transition < 90) {
    problems.push({
      path: ['archiveExpirationDays'],
      message: `GLACIER_IR charges 90 days at least: expiring ${expiration - transition} days after the transition pays for storage not kept (raise archiveExpirationDays or use STANDARD_IA)`,
    });
  }
  return problems;
}

/** A custom domain's keys come together: a name with its certificate (in the stack's region), a zone with a name. */
function customDomainProblems(config: {
  domainName?: string | undefined;
  certificateArn?: string | undefined;
  hostedZoneId?: string | undefined;
  hostedZoneName?: string | undefined;
  region?: string | undefined;
}): { path: string[]; message: string }[] {
  const problems: { path: string[]; message: string }[] = [];
  const { domainName, certificateArn, hostedZoneId, hostedZoneName, region } = config;
  if (domainName && !certificateArn) {
    problems.push({
      path: ['certificateArn'],
      message: `domainName ${domainName} needs an ACM certificate for it (certificateArn)`,
    });
  }
  if (certificateArn && !domainName)
    problems.push({ path: ['domainName'], message: 'certificateArn is set without the domainName it is for' });
  const certificateRegion = certificateArn?.split(':')[3];
  if (certificateRegion && region && certificateRegion !== region) {
    problems.push({
      path: ['certificateArn'],
      message: `the certificate is in ${certificateRegion}; a regional API in ${region} needs one from ${region}`,
    });
  }
  if (Boolean(hostedZoneId) !== Boolean(hostedZoneName)) {
    problems.push({
      path: [hostedZoneId ? 'hostedZoneName' : 'hostedZoneId'],
      message: 'hostedZoneId and hostedZoneName go together',
    });
  }
  if (hostedZoneName && !domainName)
    problems.push({ path: ['domainName'], message: 'a hosted zone is set without the domainName to create in it' });
  const zone = hostedZoneName?.replace(/\.$/, '');
  if (zone && domainName && domainName !== zone && !domainName.endsWith(`.${zone}`)) {
    problems.push({ path: ['hostedZoneName'], message: `${domainName} is not in the zone ${zone}` });
  }
  return problems;
}

/** The queue's visibility timeout: 6 × the processor's timeout, as AWS recommends for Lambda event sources. */
export function queueVisibilityTimeoutSeconds(config: { processorTimeoutSeconds: number }): number {
  return config.processorTimeoutSeconds * 6;
}

/** The status-change events' bus: named from the stage, so two stages in one account never share events. */
export function statusEventBusName(config: { stage: string }): string {
  return `whatsapp-delivery-tracker-${config.stage}`;
}

/** The waits between receives while the database is down: from the visibility timeout, doubling, up to an hour. */
export function outageBackoff(config: { processorTimeoutSeconds: number }): OutageBackoff {
  return { baseSeconds: queueVisibilityTimeoutSeconds(config), maxSeconds: OUTAGE_BACKOFF_MAX_SECONDS };
}

export const CONFIG_KEYS = Object.keys(ConfigShape.shape) as (keyof z.infer<typeof ConfigShape>)[];

/** The context key holding the stage profiles: `{ "stages": { "prod": { "account": "...", ... } } }`. */
export const STAGES_KEY = 'stages';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Context keys that belong to the CDK, not to this stack: feature flags (`@aws-cdk/...`), the CLI's own
 * (`aws:cdk:...`) and cached lookups (`availability-zones:account=...`).
 */
const isCdkOwnKey = (key: string) => key.startsWith('@') || key.includes(':') || key === 'acknowledged-issue-numbers';

/**
 * Reads and validates the config from the CDK context (all of it: `app.node.getAllContext()`) and the environment.
 * A bad value fails with a message naming its key and where it came from; an unknown key (a typo in cdk.json, in
 * a stage profile or in an alarm's name) fails naming the closest valid one, rather than being silently ignored.
 */
export function loadConfig(context: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): TrackerConfig {
  const problems: string[] = [];
  for (const key of Object.keys(context)) {
    if (!isCdkOwnKey(key) && key !== STAGES_KEY && !(CONFIG_KEYS as string[]).includes(key)) {
      problems.push(`context key "${key}" is not a setting${didYouMean(key, CONFIG_KEYS)}`);
    }
  }
  const stageFromEnv = env[envName('stage')];
  const stage = stageFromEnv !== undefined && stageFromEnv !== '' ? stageFromEnv : (context.stage ?? 'dev');
  const profiles = context[STAGES_KEY] ?? {};
  let profile: Record<string, unknown> = {};
  if (typeof profiles !== 'object' || profiles === null || Array.isArray(profiles)) {
    problems.push(
      `context key "${STAGES_KEY}" must map stage names to settings, e.g. {"prod": {"account": "123456789012"}}`,
    );
  } else if (typeof stage === 'string' && stage in profiles) {
    const found = (profiles as Record<string, unknown>)[stage];
    if (typeof found !== 'object' || found === null || Array.isArray(found))
      problems.push(`${STAGES_KEY}.${stage} must be an object of settings`);
    else profile = found as Record<string, unknown>;
  }
  for (const key of Object.keys(profile)) {
    if (key === 'stage' || !(CONFIG_KEYS as string[]).includes(key)) {
      problems.push(
        `${STAGES_KEY}.${String(stage)}.${key} is not a setting${didYouMean(
          key,
          CONFIG_KEYS.filter((k) => k !== 'stage'),
        )}`,
      );
    }
  }

  const raw: Record<string, unknown> = {};
  const source: Record<string, string> = {};
  for (const key of CONFIG_KEYS) {
    const fromEnv = env[envName(key)];
    if (fromEnv !== undefined && fromEnv !== '') {
      raw[key] = fromEnv;
      source[key] = `environment variable ${envName(key)}`;
    } else if (profile[key] !== undefined) {
      raw[key] = profile[key];
      source[key] = `${STAGES_KEY}.${String(stage)}.${key}`;
    } else if (context[key] !== undefined) {
      raw[key] = context[key];
      source[key] = `context key "${key}"`;
    }
  }
  const result = TrackerConfig.safeParse(raw);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const key = String(issue.path[0] ?? '');
      const where = `${issue.path.join('.') || key} (${source[key] ?? 'default'})`;
      if (issue.code === 'unrecognized_keys') {
        const valid = validKeysAt(issue.path);
        for (const unknown of issue.keys)
          problems.push(`${where}: "${unknown}" is not a setting${didYouMean(unknown, valid)}`);
      } else problems.push(`${where}: ${issue.message}`);
    }
  }
  if (problems.length > 0 || !result.success) throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  return result.data;
}

/**
 * The keys valid where zod found an unknown one: alarm names under `alarms`, an alarm's settings under each, a
 * sender's under `senderHealth`.
 */
function validKeysAt(path: readonly PropertyKey[]): string[] {
  if (path[0] === 'senderHealth') return Object.keys(SenderHealthEntry.shape);
  if (path[0] !== 'alarms') return CONFIG_KEYS;
  if (path.length === 1) return Object.keys(DEFAULT_ALARMS);
  const alarm = DEFAULT_ALARMS[path[1] as keyof typeof DEFAULT_ALARMS];
  return alarm ? [...Object.keys(alarm), 'datapointsToAlarm'] : [];
}

/** ` (did you mean "x"?)` when a valid key is a likely typo of the given one, else nothing. */
function didYouMean(key: string, valid: readonly string[]): string {
  let best: { key: string; distance: number } | undefined;
  for (const candidate of valid) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (!best || distance < best.distance) best = { key: candidate, distance };
  }
  return best && best.distance <= Math.max(2, Math.floor(key.length / 3)) ? ` (did you mean "${best.key}"?)` : '';
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * The deploy-access app's settings (bin/deploy-access.ts): the repository, the account's OIDC provider if any, and
 * the stages to make deploy roles for (the profiles in `stages`, else dev and prod). The whole context is validated
 * as for the stack, so a typo fails here too.
 */
export function loadDeployAccessConfig(
  context: Record<string, unknown>,
  env: NodeJS.ProcessEnv = process.env,
): { githubRepository: string; githubOidcProviderArn?: string; stages: string[] } {
  const config = loadConfig(context, env);
  if (!config.githubRepository) {
    throw new ConfigError(
      'invalid configuration: githubRepository is required here (-c githubRepository=<owner>/<name>)',
    );
  }
  const profiles = context[STAGES_KEY];
  const stages =
    profiles && typeof profiles === 'object' && !Array.isArray(profiles) ? Object.keys(profiles) : ['dev', 'prod'];
  for (const stage of stages) {
    const parsed = StageName.safeParse(stage);
    if (!parsed.success)
      throw new ConfigError(`invalid configuration: ${STAGES_KEY}.${stage}: ${parsed.error.issues[0]?.message}`);
  }
  return { githubRepository: config.githubRepository, githubOidcProviderArn: config.githubOidcProviderArn, stages };
}
