import * as z from 'zod';

/**
 * Retention of the message rows (issue 15, item 3; docs/retention.md). Off unless `retentionDays` is set: then the
 * sweeper deletes, every run, the messages sent more than that many days ago, in small batches within a time budget.
 * Reports of older periods keep working from the hourly rollups. Pure: lib/ and the sweeper read it.
 */

/** The fewest days retention may keep: the database refuses a nearer cutoff too (migration 0034). */
export const MIN_RETENTION_DAYS = 7;

/**
 * Days the message rows are kept. At least 7: the alarms' read cohort looks back a day and the resend and remind lists
 * a week. A status for a deleted message is dropped (timed before the cutoff, or for a message deleted unread in the
 * last 60 days: migration 0032), so a shorter period loses the late statuses of its messages, not their counts.
 */
export const MessageRetentionDays = z.coerce.number().int().min(MIN_RETENTION_DAYS).max(3_650);

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
