import type { AccountEvent } from '../domain/account-events';
import type { OutboxEntry } from '../domain/status-change-event';
import type { StatusTimes, StatusUpdate } from '../domain/status-update';

/** One message the batch inserted or changed (unchanged messages are not reported). */
export interface AppliedChange {
  message_id: string;
  inserted: boolean;
  previous_status: StatusTimes | null;
  status: StatusTimes;
  inferred_stages: string[];
}

/**
 * The port the processor writes through. Every adapter calls the same SQL function, `apply_status_updates`, the one
 * home of the merge rules: one call per batch, all-or-nothing.
 */
export interface StatusStore {
  /** Applies the batch atomically; throws when the database refuses or cannot be reached. */
  applyStatusUpdates(updates: readonly StatusUpdate[]): Promise<AppliedChange[]>;
  /**
   * The same, through `apply_status_updates_with_events` (supabase/migrations/0023_*): in the same transaction, one
   * status-change outbox entry per changed message, which the relay puts on the bus. Used when events are on.
   */
  applyStatusUpdatesWithEvents?(updates: readonly StatusUpdate[]): Promise<AppliedChange[]>;
  /**
   * Records account and template events (`record_account_events`) and returns those not recorded before, so that a
   * webhook Meta sends again is not notified again.
   */
  recordAccountEvents(events: readonly AccountEvent[]): Promise<AccountEvent[]>;
  close(): Promise<void>;
}

/** The SQL every direct adapter runs for recordAccountEvents. */
export const RECORD_ACCOUNT_EVENTS_SQL = `select field, waba_id, occurred_at, subject_type, subject_id, subject_name, event,
    severity, detail from public.record_account_events($1::jsonb)`;

/** A recorded event as a store returns it: the database's nulls dropped and its time back in ISO form. */
export function fromRecordedRow(row: Record<string, unknown>): AccountEvent {
  const event = Object.fromEntries(Object.entries(row).filter(([, v]) => v !== null)) as Record<string, unknown>;
  event.occurred_at = new Date(row.occurred_at as string | Date).toISOString();
  return event as AccountEvent;
}

/** The SQL every direct adapter (node-postgres, PGlite) runs. */
export const APPLY_STATUS_UPDATES_SQL =
  'select message_id, inserted, previous_status, status, inferred_stages from public.apply_status_updates($1::jsonb)';

/** The same for apply_status_updates_with_events. */
export const APPLY_STATUS_UPDATES_WITH_EVENTS_SQL =
  'select message_id, inserted, previous_status, status, inferred_stages from public.apply_status_updates_with_events($1::jsonb)';

/**
 * The status-change outbox, as the relay drains it (docs/events.md#the-outbox). `claim` leases up to `maxEvents`
 * entries no other relay holds, for `leaseSeconds`; `ack` deletes those the bus accepted and returns how many it
 * deleted. An entry not acknowledged is claimed again once its lease has expired.
 */
export interface StatusEventOutbox {
  claimStatusEvents(maxEvents: number, leaseSeconds: number): Promise<OutboxEntry[]>;
  ackStatusEvents(ids: readonly number[]): Promise<number>;
}

export const CLAIM_STATUS_EVENTS_SQL = `select id, message_id, inserted, previous_status, status, inferred_stages, applied_at,
    attempts, campaign, error_code, error_title, phone_number, recipient_user_id from public.claim_status_events($1, $2)`;
export const ACK_STATUS_EVENTS_SQL = 'select public.ack_status_events($1::bigint[]) as deleted';

/** A claimed entry as a store returns it: ids as numbers (node-postgres returns bigint as text), times as Dates. */
export function fromClaimedRow(row: Record<string, unknown>): OutboxEntry {
  return {
    ...(row as unknown as OutboxEntry),
    id: Number(row.id),
    applied_at: new Date(row.applied_at as string | Date),
    attempts: Number(row.attempts),
    inferred_stages: (row.inferred_stages as string[] | null) ?? [],
  };
}

/**
 * True when the database refused a call because of the data in it, so that the same call fails the same way on
 * every retry while the database itself is fine: SQLSTATE class 22 (data exception: a character jsonb cannot hold,
 * an impossible date), 23 (integrity constraint violation) and 54 (program limit exceeded: a value too long or
 * nested too deep). Every adapter's errors carry the SQLSTATE as `code` (node-postgres, PGlite, PostgREST through
 * supabase-js). Anything else (a refused connection, a timeout, a restart, a deadlock) is the database's state,
 * which a later retry can outlive.
 */
export function isDataError(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && /^(22|23|54)[0-9A-Z]{3}$/.test(code);
}
