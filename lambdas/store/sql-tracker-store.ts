import type { StatusUpdate } from '../domain/status-update';
import { DeliveryHealth, DeliverySummary, healthArguments, type HealthStore, type HealthWindows } from './health-store';
import type { SqlExecutor } from './sql-executor';
import { APPLY_STATUS_UPDATES_SQL, type AppliedChange, type StatusStore } from './status-store';

/** Calls `apply_status_updates` over a direct connection: node-postgres (`DATABASE_URL`) or embedded PGlite. */
export class SqlStatusStore implements StatusStore, HealthStore {
  constructor(private readonly executor: SqlExecutor) {}

  async applyStatusUpdates(updates: readonly StatusUpdate[]): Promise<AppliedChange[]> {
    if (updates.length === 0) return [];
    const { rows } = await this.executor.query<AppliedChange>(APPLY_STATUS_UPDATES_SQL, [JSON.stringify(updates)]);
    return rows;
  }

  async deliveryHealth(windows: HealthWindows, asOf = new Date()): Promise<DeliveryHealth> {
    const args = Object.values(healthArguments(windows, asOf));
    const { rows } = await this.executor.query('select * from public.delivery_health($1, $2, $3, $4, $5, $6, $7)', args);
    return DeliveryHealth.parse(rows[0]);
  }

  async deliverySummary(from: Date, to: Date): Promise<DeliverySummary> {
    const { rows } = await this.executor.query('select * from public.delivery_summary($1, $2)', [from.toISOString(), to.toISOString()]);
    return DeliverySummary.parse(rows[0]);
  }

  close(): Promise<void> {
    return this.executor.close();
  }
}
