import * as z from 'zod';
import { MessageRetentionDays } from './retention';
import { SenderHealthFromEnvironment } from './sender-health';
import { RecipientPolicy } from './status-change-event';

/**
 * The one home of each function's environment: the keys its construct in lib/ writes and its handler reads, with
 * their meaning, default and check. The handler parses with the schema (readEnv, lambdas/shared/env.ts); the construct
 * writes through functionEnvironment, so a key misspelt, left out or unknown to the handler fails `tsc`, not a cold
 * start. Pure (zod only): lib/ may import it. The sweeper's cohort and failure-spike settings are written and read by
 * sweeperSettingsEnvironment / sweeperSettingsFromEnvironment (alert-settings.ts) with the stack config's schemas.
 * Secrets are never environment variables in a deployment: only the id of the Secrets Manager secret that holds them.
 */
const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const flag = (fallback: boolean) =>
  z
    .enum(['true', 'false'])
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true');

export const IngestEnv = z.object({
  QUEUE_URL: z.url(),
  /** Secrets Manager id (name or ARN) of the webhook credentials. */
  WEBHOOK_SECRET_ID: z.string().min(1),
  /** Refuse every webhook (503) while the secret holds no credential, rather than accept unauthenticated calls. */
  REQUIRE_WEBHOOK_AUTH: flag(true),
  /** Bodies above this are refused with 413. AiSensy's and Meta's batches stay well below 1 MiB. */
  MAX_BODY_BYTES: positiveInt(1_048_576),
  MAX_STATUSES_PER_WEBHOOK: positiveInt(5_000),
  /** Statuses packed into one queue message: the unit of retry. */
  MAX_STATUSES_PER_MESSAGE: positiveInt(100),
  /** The queue's maximum message size, which also bounds one SendMessageBatch request. */
  QUEUE_MAX_MESSAGE_BYTES: positiveInt(262_144),
  /** A status time more than this many days before the webhook's receipt is rejected (forged or broken). */
  MAX_STATUS_AGE_DAYS: positiveInt(30),
  /** A status time more than this many seconds after the webhook's receipt is rejected (a wrong clock). */
  MAX_STATUS_AHEAD_SECONDS: positiveInt(300),
  /** The Kinesis Data Firehose stream that archives every authenticated webhook (docs/archive.md); unset: none. */
  ARCHIVE_STREAM_NAME: z.string().min(1).optional(),
});
export type IngestEnv = z.infer<typeof IngestEnv>;

/**
 * The processor needs the Supabase secret's id (SUPABASE_URL + key directly are for runs outside AWS only), its
 * queue's URL and the outage backoff the stack checked against maxReceiveCount (lambdas/domain/outage-backoff.ts).
 */
export const ProcessorEnv = z
  .union([
    z.object({ SUPABASE_SECRET_ID: z.string().min(1) }),
    z.object({ SUPABASE_URL: z.url(), SUPABASE_SERVICE_ROLE_KEY: z.string().min(1) }),
  ])
  .and(
    z.object({
      QUEUE_URL: z.url(),
      /** The queue's visibility timeout: the first wait after a receive fails with the database down. */
      OUTAGE_BACKOFF_BASE_SECONDS: z.coerce.number().int().positive(),
      OUTAGE_BACKOFF_MAX_SECONDS: z.coerce.number().int().positive(),
      /**
       * The stack's event bus for status-change events (docs/events.md); set: the processor writes the events to the
       * outbox (the relay puts them on this bus) and puts the event retry queue's parked events on it. Unset: no events.
       */
      STATUS_EVENT_BUS_NAME: z.string().min(1).optional(),
      /** The event retry queue's ARN: the handler tells a batch of parked events from a batch of statuses by it. */
      STATUS_EVENT_RETRY_QUEUE_ARN: z.string().min(1).optional(),
      /** The topics that receive critical and warning account or template events; unset: they are logged only. */
      CRITICAL_TOPIC_ARN: z.string().optional(),
      WARNING_TOPIC_ARN: z.string().optional(),
    }),
  );
export type ProcessorEnv = z.infer<typeof ProcessorEnv>;

/**
 * The status-change events' relay (lambdas/processor/relay-handler.ts): the Supabase secret it claims and
 * acknowledges outbox entries with, the bus it puts them on, and what the events say of the recipient.
 */
export const RelayEnv = z.object({
  SUPABASE_SECRET_ID: z.string().min(1),
  STATUS_EVENT_BUS_NAME: z.string().min(1),
  /** What an event says of the recipient's phone number: masked or omitted (lambdas/domain/status-change-event.ts). */
  STATUS_EVENT_RECIPIENT: RecipientPolicy.default('masked'),
  /** How long the relay keeps polling once the outbox is empty (status-event-relay.ts, RELAY_SETTINGS.lingerMs). */
  STATUS_EVENT_RELAY_LINGER_SECONDS: z.coerce.number().int().min(0).max(40).default(20),
});
export type RelayEnv = z.infer<typeof RelayEnv>;

/**
 * The sweeper's resources. Its cohort and failure-spike settings are read by sweeperSettingsFromEnvironment
 * (lambdas/domain/alert-settings.ts) with the very schemas the stack's config uses.
 */
export const SweeperEnv = z.object({
  SUPABASE_SECRET_ID: z.string().min(1),
  /** The info topic that receives the daily summary; unset: no summary is sent. */
  SUMMARY_TOPIC_ARN: z.string().optional(),
  /** The warning topic that receives failure-spike notifications; unset: none is sent. */
  WARNING_TOPIC_ARN: z.string().optional(),
  /** Where notifications point people for what to do. */
  RUNBOOK_URL: z.string().default('docs/runbook.md'),
  /** The private bucket the daily HTML report goes to (lib/constructs/report-bucket.ts); unset: no report link. */
  REPORT_BUCKET_NAME: z.string().min(1).optional(),
  /** The report link's lifetime (X-Amz-Expires), at most SigV4's 7 days. */
  REPORT_LINK_HOURS: z.coerce.number().int().min(1).max(168).default(12),
  /** The stage, in the report's key: reports/<stage>/<day>.html. */
  STAGE: z.string().min(1).default('dev'),
  /** The senders whose health is published per sender (config `senderHealth`, sender-health.ts); unset: none. */
  SENDER_HEALTH: SenderHealthFromEnvironment.optional(),
  /** Days the message rows are kept (config `retentionDays`); unset: kept forever. */
  RETENTION_DAYS: MessageRetentionDays.optional(),
});
export type SweeperEnv = z.infer<typeof SweeperEnv>;

/** What a construct writes for a function with environment `S`: every key the schema requires, none it does not know. */
export type FunctionEnvironment<S extends z.ZodType> = EveryKeyAString<z.input<S>>;
// Distributes over a union (ProcessorEnv: the secret's id or the URL and key), keeping optional keys optional.
type EveryKeyAString<T> = T extends unknown ? { [K in keyof T]: string } : never;

/** The environment of a function whose handler reads it with `schema` (values are strings, CDK tokens included). */
export function functionEnvironment<S extends z.ZodType>(
  _schema: S,
  environment: FunctionEnvironment<S>,
): Record<string, string> {
  return environment as Record<string, string>;
}
