import type { AccountEvent } from '../domain/account-events';
import type { OutboxEntry } from '../domain/status-change-event';
import type { StatusUpdate } from '../domain/status-update';
import {
  DeliveryHealth,
  DeliverySummary,
  type HealthStore,
  type HealthWindows,
  healthArguments,
  SenderDeliveryHealth,
  type SenderHealthStore,
} from './health-store';
import type { RetentionStore } from './retention-store';
import type { RollupStore } from './rollup-store';
import type { SqlExecutor } from './sql-executor';
import {
  ACK_STATUS_EVENTS_SQL,
  APPLY_STATUS_UPDATES_SQL,
  APPLY_STATUS_UPDATES_WITH_EVENTS_SQL,
  type AppliedChange,
  CLAIM_STATUS_EVENTS_SQL,
  fromClaimedRow,
  fromRecordedRow,
  RECORD_ACCOUNT_EVENTS_SQL,
  type StatusEventOutbox,
  type StatusStore,
} from './status-store';

/**
 * The tracker's store over a direct connection: node-postgres (`DATABASE_URL`) or embedded PGlite.
 *
 * Naming: one store class per database adapter (SqlTrackerStore, SupabaseTrackerStore), named for the tracker's
 * store as a whole, because each implements both ports: StatusStore (the processor's writes, status-store.ts) and
 * HealthStore (the sweeper's and the report's reads, health-store.ts). Callers keep depending on the port they use.
 */
export class SqlTrackerStore
  implements StatusStore, HealthStore, SenderHealthStore, RetentionStore, RollupStore, StatusEventOutbox
{
  constructor(private readonly executor: SqlExecutor) {}

  async applyStatusUpdates(updates: readonly StatusUpdate[]): Promise<AppliedChange[]> {
    if (updates.length === 0) return [];
    const { rows } = await this.executor.query<AppliedChange>(APPLY_STATUS_UPDATES_SQL, [JSON.stringify(updates)]);
    return rows;
  }

  async applyStatusUpdatesWithEvents(updates: readonly StatusUpdate[]): Promise<AppliedChange[]> {
    if (updates.length === 0) return [];
    const { rows } = await this.executor.query<AppliedChange>(APPLY_STATUS_UPDATES_WITH_EVENTS_SQL, [
      JSON.stringify(updates),
    ]);
    return rows;
  }

  async claimStatusEvents(maxEvents: number, leaseSeconds: number): Promise<OutboxEntry[]> {
    const { rows } = await this.executor.query<Record<string, unknown>>(CLAIM_STATUS_EVENTS_SQL, [
      maxEvents,
      leaseSeconds,
    ]);
    return rows.map(fromClaimedRow);
  }

  async ackStatusEvents(ids: readonly number[]): Promise<number> {
    if (ids.length === 0) return 0;
    const { rows } = await this.executor.query<{ deleted: number }>(ACK_STATUS_EVENTS_SQL, [ids.map(String)]);
    return Number(rows[0]?.deleted ?? 0);
  }

  async recordAccountEvents(events: readonly AccountEvent[]): Promise<AccountEvent[]> {
    if (events.length === 0) return [];
    const { rows } = await this.executor.query<Record<string, unknown>>(RECORD_ACCOUNT_EVENTS_SQL, [
      JSON.stringify(events),
    ]);
    return rows.map(fromRecordedRow);
  }

  async deliveryHealth(windows: HealthWindows, asOf = new Date()): Promise<DeliveryHealth> {
    const args = Object.values(healthArguments(windows, asOf));
    const { rows } = await this.executor.query(
      'select * from public.delivery_health($1, $2, $3, $4, $5, $6, $7)',
      args,
    );
    return DeliveryHealth.parse(rows[0]);
  }

  async deliveryHealthBySender(
    windows: HealthWindows,
    senderIds: readonly string[],
    asOf = new Date(),
  ): Promise<SenderDeliveryHealth[]> {
    if (senderIds.length === 0) return [];
    const { rows } = await this.executor.query(
      'select * from public.delivery_health_by_sender($1, $2, $3, $4, $5, $6, $7, $8)',
      [...Object.values(healthArguments(windows, asOf)), [...senderIds]],
    );
    return rows.map((row) => SenderDeliveryHealth.parse(row));
  }

  async deleteExpiredMessages(olderThan: Date, batchSize: number): Promise<number> {
    const { rows } = await this.executor.query<{ deleted: number }>(
      'select public.delete_expired_messages($1, $2) as deleted',
      [olderThan.toISOString(), batchSize],
    );
    return Number(rows[0]?.deleted ?? 0);
  }

  async expiredMessagesRemaining(olderThan: Date, upTo: number): Promise<number> {
    const { rows } = await this.executor.query<{ remaining: string | number }>(
      'select public.expired_messages_remaining($1, $2) as remaining',
      [olderThan.toISOString(), upTo],
    );
    return Number(rows[0]?.remaining ?? 0);
  }

  async compactRollups(): Promise<number> {
    const { rows } = await this.executor.query<{ removed: string | number }>(
      'select public.compact_rollups() as removed',
    );
    return Number(rows[0]?.removed ?? 0);
  }

  async deliverySummary(from: Date, to: Date): Promise<DeliverySummary> {
    const range = [from.toISOString(), to.toISOString()];
    const [{ rows }, failures] = await Promise.all([
      this.executor.query('select * from public.delivery_summary($1, $2)', range),
      this.executor.query('select * from public.failures_by_error($1, $2) limit 1', range),
    ]);
    return DeliverySummary.parse({ ...rows[0], top_failure: failures.rows[0] ?? null });
  }

  close(): Promise<void> {
    return this.executor.close();
  }
}
