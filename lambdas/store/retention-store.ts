/**
 * Retention (issue 15, item 3): the sweeper deletes the message rows sent before the retention period, a small batch
 * per call (migration 0025, docs/retention.md). A port of its own, implemented by both tracker stores.
 */
export interface RetentionStore {
  /** Deletes at most `batchSize` messages sent before `olderThan` and returns how many it deleted. */
  deleteExpiredMessages(olderThan: Date, batchSize: number): Promise<number>;
  /** How many messages sent before `olderThan` remain, counted up to `upTo` (a bounded index-only count). */
  expiredMessagesRemaining(olderThan: Date, upTo: number): Promise<number>;
}
