/**
 * The ingest's time budget. AiSensy gives a webhook 5 s to answer (Meta about as long) and counts a slower answer
 * as a failure; after repeated failures it disables the webhook. So every call on the ingest path has a hard
 * deadline, enforced by the code (an abort or a race), not left to the SDK: its retry backoff is random (up to
 * 200 ms, or 1 s after throttling) and its request timeout is a socket idle timeout, which a slow trickle of bytes
 * never trips. The SDK's per-attempt timeouts are chosen so that a second attempt still fits in the deadline.
 *
 * Worst case, measured from API Gateway's receipt: cold initialisation + the secret read (only on a cold start or
 * a cache refresh, every 5 minutes) + the queue send (the archive write runs beside it) + parsing. The answer is then a 503, which the provider
 * retries; nothing was queued or everything was (SQS deduplicates nothing, but the statuses are idempotent).
 * This module is the one home of these numbers: the ingest handler builds its clients from it and lib/config.ts
 * derives the Lambda timeout's range from it.
 */
export const PROVIDER_DEADLINE_MS = 5_000;

export const INGEST_BUDGET = {
  /** Reading the webhook secret from Secrets Manager, every attempt included. */
  secretReadMs: 1_200,
  secretAttempts: 2,
  secretConnectMs: 200,
  secretRequestMs: 300,
  /** Every SendMessageBatch of one webhook (in parallel) and the resends of entries SQS failed, together. */
  queueSendMs: 1_500,
  queueAttempts: 2,
  queueConnectMs: 200,
  queueRequestMs: 450,
  /**
   * Archiving the raw webhook (Firehose PutRecordBatch), every attempt included. It runs beside the queue send, so
   * it adds nothing to the worst case as long as it is no longer; a webhook is never refused for it (docs/archive.md).
   */
  archiveWriteMs: 1_500,
  archiveAttempts: 2,
  archiveConnectMs: 200,
  archiveRequestMs: 450,
  /**
   * Everything else, generously: Lambda's cold initialisation and the CPU of a maximal hostile body, both measured
   * by `npm run bench` (docs/performance.md#ingest, docs/reliability.md).
   */
  otherWorkMs: 800,
} as const;
export type IngestBudget = typeof INGEST_BUDGET;

/** The SDK's first retry waits at most this long (2 × its 100 ms base delay; throttling is cut by the deadline). */
export const SDK_FIRST_RETRY_DELAY_MS = 200;

/** The longest the ingest can take before it answers, cold start included: 3.5 s of the provider's 5. */
export function worstCaseIngestMs(budget: IngestBudget = INGEST_BUDGET): number {
  return budget.secretReadMs + Math.max(budget.queueSendMs, budget.archiveWriteMs) + budget.otherWorkMs;
}

/**
 * The Lambda timeout (`ingestTimeoutSeconds`) is the backstop for a hang nobody foresaw: at least the calls'
 * deadlines (or the function is killed, answering 502, before it can answer 503 itself), and under the provider's
 * deadline (or the provider gives up first and the timeout never helps). Lambda's init phase does not count
 * against it.
 */
export const INGEST_TIMEOUT_SECONDS = {
  min: Math.ceil(
    (INGEST_BUDGET.secretReadMs + Math.max(INGEST_BUDGET.queueSendMs, INGEST_BUDGET.archiveWriteMs)) / 1000,
  ),
  max: Math.ceil(PROVIDER_DEADLINE_MS / 1000) - 1,
  default: Math.ceil(PROVIDER_DEADLINE_MS / 1000) - 1,
} as const;
