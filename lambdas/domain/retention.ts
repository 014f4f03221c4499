import * as z from 'zod';

/**
 * Retention of the message rows (issue 15, item 3; docs/retention.md). Off unless `retentionDays` is set: then the
 * sweeper deletes, every run, the messages sent more than that many days ago, in small batches within a time budget.
 * Reports of older periods keep working from the hourly rollups. Pure: lib/ and the sweeper read it.
 */

/**
 * Days the message rows are kept. At least 7: the alarms' read cohort looks back a day and the resend and remind lists
 * a week; statuses up to 30 days old are still accepted (MAX_STATUS_AGE_DAYS), and a late status for a message
 * already deleted stores a new row of that status alone, so 30 or more is the setting that never sees that.
 */
export const MessageRetentionDays = z.coerce.number().int().min(7).max(3_650);

export interface RetentionRun {
  /** Messages sent before this go. */
  olderThan: Date;
  /** Rows per delete call: one short transaction each. */
  batchSize: number;
  /** Milliseconds of one sweeper run spent deleting, at most (a batch already started finishes). */
  budgetMs: number;
}

/**
 * 1,000 rows per call: a few tens of milliseconds of row locks on PostgreSQL (docs/retention.md); 20 s of the
 * sweeper's 60 s timeout, every 5 minutes, is far more than 1M messages a day need.
 */
export const RETENTION_DEFAULTS = { batchSize: 1_000, budgetMs: 20_000 } as const;

export function retentionRun(now: Date, retentionDays: number, overrides: Partial<RetentionRun> = {}): RetentionRun {
  return {
    olderThan: new Date(now.getTime() - retentionDays * 86_400_000),
    ...RETENTION_DEFAULTS,
    ...overrides,
  };
}
