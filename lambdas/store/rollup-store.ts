/**
 * Upkeep of the rollups the report and the alarms read (migration 0022, docs/design.md#rollups). Writers only append
 * rows to them; until those are folded, a bucket's figures are the sum of all its rows, right but slower to read the
 * more there are. The sweeper folds them on every run. A port of its own, implemented by both tracker stores.
 */
export interface RollupStore {
  /**
   * Folds each pending bucket's rows into one and drops minute rows past the minute horizon (a bounded amount per
   * call; 0 at once when another compaction holds the lock). Returns how many rows it removed.
   */
  compactRollups(): Promise<number>;
}
