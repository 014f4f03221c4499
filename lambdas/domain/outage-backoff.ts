/**
 * How long a queue message waits before its next receive when the database was unreachable, and how long an outage
 * the queue's receives can then outlast. Pure: the stack's config (lib/config.ts) checks the arithmetic at synth,
 * the processor applies it, and the local run and the alert simulator use the very same functions.
 *
 * Why a backoff and not simply more receives: SQS dead-letters a message after `maxReceiveCount` receives, whatever
 * the reason they failed. At a fixed 180 s per receive, 5 receives outlast 15 minutes of outage; 6 hours would need
 * 120 receives, and a status whose own data is bad would then wait 6 hours before reaching the DLQ too. Doubling the
 * wait only after an outage failure (a data failure keeps the queue's plain visibility timeout) lets 11 receives
 * span 6.5 hours while a bad status still reaches the DLQ after 11 × 180 s = 33 minutes.
 */
export interface OutageBackoff {
  /** The first wait: the queue's visibility timeout, which a failed receive waits anyway. */
  baseSeconds: number;
  /**
   * The longest wait between two receives. Caps how long after the database's return the last statuses are stored
   * (at most this much later) at the price of a few more receives. @default OUTAGE_BACKOFF_MAX_SECONDS
   */
  maxSeconds: number;
}

/** One hour: statuses are stored at most an hour after the database is back, and 6 h of outage cost 11 receives. */
export const OUTAGE_BACKOFF_MAX_SECONDS = 3_600;
/** SQS refuses a visibility timeout above 12 hours (ChangeMessageVisibility). */
export const SQS_MAX_VISIBILITY_SECONDS = 43_200;

/** Seconds to hide a message whose `receiveCount`-th receive (1 for the first) failed because the database was down. */
export function outageRetryDelaySeconds(receiveCount: number, backoff: OutageBackoff): number {
  const attempt = Math.max(1, Math.floor(receiveCount) || 1);
  const doubled = backoff.baseSeconds * 2 ** Math.min(attempt - 1, 30);
  return Math.min(doubled, backoff.maxSeconds, SQS_MAX_VISIBILITY_SECONDS);
}

/**
 * The longest outage, in seconds from a message's first receive, after which the message is still stored: its last
 * receive (the `maxReceiveCount`-th) must come after the database is back, since SQS moves it to the DLQ at the
 * receive after that one without trying it. So: the waits after receives 1..maxReceiveCount-1.
 */
export function outageToleranceSeconds(maxReceiveCount: number, backoff: OutageBackoff): number {
  let total = 0;
  for (let n = 1; n < maxReceiveCount; n++) total += outageRetryDelaySeconds(n, backoff);
  return total;
}

/** The fewest receives whose backoff outlasts `toleranceSeconds` of outage. */
export function receivesToOutlast(toleranceSeconds: number, backoff: OutageBackoff): number {
  let receives = 1;
  while (outageToleranceSeconds(receives, backoff) < toleranceSeconds) receives++;
  return receives;
}
