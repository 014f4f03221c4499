import { createClient, type SupabaseClient } from '@supabase/supabase-js';
import WebSocket from 'ws';
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
import type { ReportFunctionCall, ReportRows } from './report-functions';
import type { RetentionStore } from './retention-store';
import type { RollupStore } from './rollup-store';
import {
  type AppliedChange,
  fromClaimedRow,
  fromRecordedRow,
  type StatusEventOutbox,
  type StatusStore,
} from './status-store';

export interface SupabaseStoreOptions {
  url: string;
  serviceRoleKey: string;
  /** For tests: a fetch that PostgREST requests go through. @default globalThis.fetch */
  fetch?: typeof fetch;
}

/** A PostgREST error as supabase-js returns it, kept whole so the logs can say what the database said. */
export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

/**
 * The production store: Supabase's REST API (PostgREST) calling the same SQL functions with `rpc`. Both ports,
 * StatusStore and HealthStore, like SqlTrackerStore (see there for the naming).
 */
export class SupabaseTrackerStore
  implements StatusStore, HealthStore, SenderHealthStore, RetentionStore, RollupStore, StatusEventOutbox
{
  private readonly client: SupabaseClient;

  constructor(options: SupabaseStoreOptions) {
    this.client = createClient(options.url, options.serviceRoleKey, {
      auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
      // Node 20 has no global WebSocket and supabase-js refuses to start without one; realtime is never used.
      realtime: { transport: WebSocket as never },
      global: options.fetch ? { fetch: options.fetch } : {},
    });
  }

  async applyStatusUpdates(updates: readonly StatusUpdate[]): Promise<AppliedChange[]> {
    if (updates.length === 0) return [];
    const { data, error } = await this.client.rpc('apply_status_updates', { updates });
    if (error) throw new StoreError(`apply_status_updates failed: ${error.message}`, error.code);
    return (data ?? []) as AppliedChange[];
  }

  async applyStatusUpdatesWithEvents(updates: readonly StatusUpdate[]): Promise<AppliedChange[]> {
    if (updates.length === 0) return [];
    const { data, error } = await this.client.rpc('apply_status_updates_with_events', { updates });
    if (error) throw new StoreError(`apply_status_updates_with_events failed: ${error.message}`, error.code);
    return (data ?? []) as AppliedChange[];
  }

  async claimStatusEvents(maxEvents: number, leaseSeconds: number): Promise<OutboxEntry[]> {
    const { data, error } = await this.client.rpc('claim_status_events', {
      max_events: maxEvents,
      lease_seconds: leaseSeconds,
    });
    if (error) throw new StoreError(`claim_status_events failed: ${error.message}`, error.code);
    return ((data ?? []) as Record<string, unknown>[]).map(fromClaimedRow);
  }

  async ackStatusEvents(ids: readonly number[]): Promise<number> {
    if (ids.length === 0) return 0;
    const { data, error } = await this.client.rpc('ack_status_events', { ids });
    if (error) throw new StoreError(`ack_status_events failed: ${error.message}`, error.code);
    return Number(data ?? 0);
  }

  async recordAccountEvents(events: readonly AccountEvent[]): Promise<AccountEvent[]> {
    if (events.length === 0) return [];
    const { data, error } = await this.client.rpc('record_account_events', { events });
    if (error) throw new StoreError(`record_account_events failed: ${error.message}`, error.code);
    return ((data ?? []) as Record<string, unknown>[]).map(({ id: _id, recorded_at: _at, ...row }) =>
      fromRecordedRow(row),
    );
  }

  async deliveryHealth(windows: HealthWindows, asOf = new Date()): Promise<DeliveryHealth> {
    const { data, error } = await this.client.rpc('delivery_health', healthArguments(windows, asOf));
    if (error) throw new StoreError(`delivery_health failed: ${error.message}`, error.code);
    return DeliveryHealth.parse((data as unknown[])[0]);
  }

  async deliveryHealthBySender(
    windows: HealthWindows,
    senderIds: readonly string[],
    asOf = new Date(),
  ): Promise<SenderDeliveryHealth[]> {
    if (senderIds.length === 0) return [];
    const { data, error } = await this.client.rpc('delivery_health_by_sender', {
      ...healthArguments(windows, asOf),
      senders: [...senderIds],
    });
    if (error) throw new StoreError(`delivery_health_by_sender failed: ${error.message}`, error.code);
    return ((data ?? []) as unknown[]).map((row) => SenderDeliveryHealth.parse(row));
  }

  async deleteExpiredMessages(olderThan: Date, batchSize: number): Promise<number> {
    const { data, error } = await this.client.rpc('delete_expired_messages', {
      older_than: olderThan.toISOString(),
      batch_size: batchSize,
    });
    if (error) throw new StoreError(`delete_expired_messages failed: ${error.message}`, error.code);
    return Number(data ?? 0);
  }

  async expiredMessagesRemaining(olderThan: Date, upTo: number): Promise<number> {
    const { data, error } = await this.client.rpc('expired_messages_remaining', {
      older_than: olderThan.toISOString(),
      up_to: upTo,
    });
    if (error) throw new StoreError(`expired_messages_remaining failed: ${error.message}`, error.code);
    return Number(data ?? 0);
  }

  async compactRollups(): Promise<number> {
    const { data, error } = await this.client.rpc('compact_rollups', {});
    if (error) throw new StoreError(`compact_rollups failed: ${error.message}`, error.code);
    return Number(data ?? 0);
  }

  async deliverySummary(from: Date, to: Date): Promise<DeliverySummary> {
    const range = { period_start: from.toISOString(), period_end: to.toISOString() };
    const [summary, failures] = await Promise.all([
      this.client.rpc('delivery_summary', range),
      this.client.rpc('failures_by_error', range),
    ]);
    if (summary.error) throw new StoreError(`delivery_summary failed: ${summary.error.message}`, summary.error.code);
    if (failures.error)
      throw new StoreError(`failures_by_error failed: ${failures.error.message}`, failures.error.code);
    // failures_by_error() orders by messages: its first row is the top failure (one row per code: a short list).
    return DeliverySummary.parse({
      ...(summary.data as Record<string, unknown>[])[0],
      top_failure: (failures.data as unknown[])[0] ?? null,
    });
  }

  /** One of the report's SQL functions through rpc (report-functions.ts): the daily report link builds on it. */
  readonly callReportFunction: ReportFunctionCall = async (fn, args, limit) => {
    const call = this.client.rpc(fn, args);
    const { data, error } = await (limit === undefined ? call : call.limit(limit));
    if (error) throw new StoreError(`${fn} failed: ${error.message}`, error.code);
    return (data ?? []) as ReportRows;
  };

  /** Nothing to release: requests are plain HTTP and no realtime channel is ever opened. */
  async close(): Promise<void> {}
}
