import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRIC } from '../domain/metric-names';
import {
  type OutboxEntry,
  type RecipientPolicy,
  type StatusEventEntry,
  statusChangedDetails,
  statusEventEntry,
} from '../domain/status-change-event';
import { safeError } from '../shared/log-safe';
import type { StatusEventOutbox } from '../store/status-store';
import type { StatusEventSink } from './status-events';

/**
 * The status-change events' relay (docs/events.md#the-outbox): drains the outbox that the processor's transaction
 * writes (apply_status_updates_with_events) onto the bus, outside the status batch. At least once: an entry leaves
 * the outbox only after PutEvents accepted it; what the bus refuses (after the sink's retries) or a relay that dies
 * leaves claimed, and the entry is claimed again when its lease expires.
 */
export interface RelaySettings {
  /** Entries per claim: 100 is 10 PutEvents requests of 10, sent at once (EventBridgeSink's concurrency). */
  maxEvents: number;
  /** How long a claim holds its entries: longer than a round (claim, PutEvents with retries, ack) ever takes. */
  leaseSeconds: number;
  /** The wait between claims once the outbox is empty, while lingering. */
  pollIntervalMs: number;
  /** After the outbox was found empty, keep polling this long for new entries before returning (0: return at once). */
  lingerMs: number;
  /** No new claim when less than this is left of the invocation: a round must end (and ack) before the timeout. */
  stopMarginMs: number;
}

/**
 * The deployed relay's settings: invoked every minute with a 60 s timeout, it drains, then polls every second while
 * events keep coming, and returns after 20 s without any (or 10 s before its timeout). An event therefore reaches the
 * bus about a second after its batch committed while traffic flows, and within the minute after a quiet spell.
 */
export const RELAY_SETTINGS: RelaySettings = {
  maxEvents: 100,
  leaseSeconds: 30,
  pollIntervalMs: 1_000,
  lingerMs: 20_000,
  stopMarginMs: 10_000,
};

export interface RelayDependencies {
  outbox: StatusEventOutbox;
  sink: StatusEventSink;
  recipientPolicy: RecipientPolicy;
  logger: Logger;
  metrics: Metrics;
  /** Milliseconds left in the invocation (Lambda's context.getRemainingTimeInMillis); unset: no limit. */
  remainingMs?: () => number;
  /** A monotonic clock in ms, for the linger. */
  clock?: () => number;
  /** The wall clock, for the events' latency. */
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
}

export interface RelayOutcome {
  /** Claims made (the last one may have found nothing). */
  claims: number;
  claimed: number;
  /** Accepted by the bus and acknowledged. */
  published: number;
  /** Refused by the bus after the sink's retries: left in the outbox, claimed again after the lease. */
  refused: number;
  /** Entries that make no event (their stage times did not change): acknowledged without an event. */
  skipped: number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** One claim, its PutEvents and the ack of what the bus accepted. */
export async function relayOnce(
  deps: RelayDependencies,
  settings: Pick<RelaySettings, 'maxEvents' | 'leaseSeconds'>,
): Promise<Omit<RelayOutcome, 'claims'>> {
  const claimed = await deps.outbox.claimStatusEvents(settings.maxEvents, settings.leaseSeconds);
  const outcome = { claimed: claimed.length, published: 0, refused: 0, skipped: 0 };
  if (claimed.length === 0) return outcome;
  const idOf = new Map<StatusEventEntry, OutboxEntry>();
  const noEvent: number[] = [];
  for (const row of claimed) {
    const [detail] = statusChangedDetails([row], deps.recipientPolicy);
    if (detail) idOf.set(statusEventEntry(detail, row.applied_at), row);
    else noEvent.push(row.id);
  }
  let refused: StatusEventEntry[];
  try {
    refused = idOf.size ? await deps.sink.put([...idOf.keys()]) : [];
  } catch (error) {
    deps.logger.error('status events could not be put', { error: safeError(error) });
    refused = [...idOf.keys()];
  }
  const refusedSet = new Set(refused);
  const accepted = [...idOf].filter(([entry]) => !refusedSet.has(entry)).map(([, row]) => row.id);
  // The ack is the commit point of the relay: if it fails, the entries come back after the lease and go out again.
  await deps.outbox.ackStatusEvents([...accepted, ...noEvent]);
  outcome.published = accepted.length;
  if (accepted.length) {
    // The oldest accepted change of the claim: what a subscriber waited at most (commit to PutEvents accepted).
    const now = (deps.now ?? (() => new Date()))().getTime();
    const oldest = Math.min(
      ...[...idOf].filter(([entry]) => !refusedSet.has(entry)).map(([, r]) => r.applied_at.getTime()),
    );
    deps.metrics.addMetric(METRIC.StatusEventLatency, MetricUnit.Seconds, Math.max(0, (now - oldest) / 1000));
  }
  outcome.skipped = noEvent.length;
  outcome.refused = refused.length;
  if (refused.length) {
    const rows = refused.map((e) => idOf.get(e)!);
    deps.logger.warn('status events refused by the bus: left in the outbox, claimed again after the lease', {
      events: refused.length,
      leaseSeconds: settings.leaseSeconds,
      mostAttempts: Math.max(...rows.map((r) => r.attempts)),
      messageIds: rows.slice(0, 50).map((r) => r.message_id),
    });
  }
  return outcome;
}

/**
 * Drains the outbox: claims until a claim comes back short (the outbox is empty), then, while `lingerMs` lasts, polls
 * every `pollIntervalMs` and drains again whenever something arrived. Stops claiming `stopMarginMs` before the
 * invocation's end. Counts StatusEventsPublished and StatusEventsParked (refused, left in the outbox): the
 * statusEvents alarm fires on the latter. A database error throws (the invocation fails: the relay's Errors, also in
 * the alarm); what it had claimed comes back after the lease.
 */
export async function drainStatusEvents(
  deps: RelayDependencies,
  settings: RelaySettings = RELAY_SETTINGS,
): Promise<RelayOutcome> {
  const remaining = deps.remainingMs ?? (() => Number.POSITIVE_INFINITY);
  const clock = deps.clock ?? (() => performance.now());
  const sleep = deps.sleep ?? defaultSleep;
  const total: RelayOutcome = { claims: 0, claimed: 0, published: 0, refused: 0, skipped: 0 };
  let emptySince: number | undefined;
  try {
    while (remaining() > settings.stopMarginMs) {
      const round = await relayOnce(deps, settings);
      total.claims++;
      total.claimed += round.claimed;
      total.published += round.published;
      total.refused += round.refused;
      total.skipped += round.skipped;
      // A full claim: more is waiting. A refused entry stays leased, so it does not make the outbox look full.
      if (round.claimed === settings.maxEvents && round.refused < round.claimed) {
        emptySince = undefined;
        continue;
      }
      if (round.claimed > 0) emptySince = undefined;
      emptySince ??= clock();
      if (clock() - emptySince >= settings.lingerMs) break;
      await sleep(settings.pollIntervalMs);
    }
  } finally {
    deps.metrics.addMetric(METRIC.StatusEventsPublished, MetricUnit.Count, total.published);
    if (total.refused) deps.metrics.addMetric(METRIC.StatusEventsParked, MetricUnit.Count, total.refused);
  }
  // At debug when there was nothing: npm start drains every 2 s, and an idle outbox wrote 1,800 info lines an hour.
  if (total.claimed > 0) deps.logger.info('status-change outbox drained', { ...total });
  else deps.logger.debug('status-change outbox drained', { ...total });
  return total;
}
