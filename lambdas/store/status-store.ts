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
  close(): Promise<void>;
}

/** The SQL every direct adapter (node-postgres, PGlite) runs. */
export const APPLY_STATUS_UPDATES_SQL =
  'select message_id, inserted, previous_status, status, inferred_stages from public.apply_status_updates($1::jsonb)';
