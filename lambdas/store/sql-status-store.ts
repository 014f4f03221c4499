import type { StatusUpdate } from '../domain/status-update';
import type { SqlExecutor } from './sql-executor';
import { APPLY_STATUS_UPDATES_SQL, type AppliedChange, type StatusStore } from './status-store';

/** Calls `apply_status_updates` over a direct connection: node-postgres (`DATABASE_URL`) or embedded PGlite. */
export class SqlStatusStore implements StatusStore {
  constructor(private readonly executor: SqlExecutor) {}

  async applyStatusUpdates(updates: readonly StatusUpdate[]): Promise<AppliedChange[]> {
    if (updates.length === 0) return [];
    const { rows } = await this.executor.query<AppliedChange>(APPLY_STATUS_UPDATES_SQL, [JSON.stringify(updates)]);
    return rows;
  }

  close(): Promise<void> {
    return this.executor.close();
  }
}
