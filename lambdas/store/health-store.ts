import * as z from 'zod';
import { DEFAULT_COHORTS, type HealthWindows, healthWindows } from '../domain/alert-settings';
import { sqlCount as count, sqlFigure as figure, sqlTime as time } from '../shared/sql-values';

export type { HealthWindows };
/** The deployed stack's default cohorts (defaults and ranges live in lambdas/domain/alert-settings.ts). */
export const DEFAULT_HEALTH_WINDOWS: HealthWindows = healthWindows(DEFAULT_COHORTS);

export const DeliveryHealth = z.object({
  computed_at: time,
  cohort_sent: count,
  cohort_delivered: count,
  cohort_failed: count,
  delivery_rate_percent: figure,
  failure_rate_percent: figure,
  top_error_code: z.union([z.null(), z.coerce.number().int()]),
  top_error_title: z.string().nullable(),
  top_error_count: count,
  avg_delivery_seconds: figure,
  median_delivery_seconds: figure,
  delivery_latency_samples: count,
  read_cohort_delivered: count,
  read_cohort_read: count,
  read_rate_percent: figure,
  undelivered_cohort_sent: count,
  undelivered_count: count,
  undelivered_percent: figure,
});
export type DeliveryHealth = z.infer<typeof DeliveryHealth>;

/** Totals and rates of a set of messages: the shape of delivery_summary() and of each row of delivery_report(). */
export const DeliveryTotals = z.object({
  total_messages: count,
  sent: count,
  delivered: count,
  read: count,
  failed: count,
  delivery_rate_percent: figure,
  read_rate_percent: figure,
  avg_delivery_seconds: figure,
});

/** The most frequent failure of a period: the first row of failures_by_error(). */
export const TopFailure = z.object({
  error_code: z.union([z.null(), z.coerce.number()]),
  error_title: z.string().nullable(),
  messages: count,
});
export type TopFailure = z.infer<typeof TopFailure>;

export const DeliverySummary = DeliveryTotals.extend({
  window_start: time,
  window_end: time,
  /** Null when nothing failed; absent from stores that do not look it up. */
  top_failure: TopFailure.nullish(),
});
export type DeliverySummary = z.infer<typeof DeliverySummary>;

/** The read side the sweeper (and the report) use; implemented by the same adapters as StatusStore. */
export interface HealthStore {
  deliveryHealth(windows: HealthWindows, asOf?: Date): Promise<DeliveryHealth>;
  deliverySummary(from: Date, to: Date): Promise<DeliverySummary>;
}

/** delivery_health's figures for one listed sender: a row of `delivery_health_by_sender` (migration 0024). */
export const SenderDeliveryHealth = DeliveryHealth.extend({ sender_id: z.string() });
export type SenderDeliveryHealth = z.infer<typeof SenderDeliveryHealth>;

/**
 * The per-sender read (the sweeper, for the senders listed in `senderHealth`). A port of its own so that stores which
 * only serve the global figures (the alert simulator's) need not implement it.
 */
export interface SenderHealthStore {
  /** One row per id of `senderIds` (phone number id or AiSensy project id), in their order, each id once. */
  deliveryHealthBySender(
    windows: HealthWindows,
    senderIds: readonly string[],
    asOf?: Date,
  ): Promise<SenderDeliveryHealth[]>;
}

/** Named arguments of `delivery_health`, as both the SQL and the rpc adapters pass them. */
export function healthArguments(windows: HealthWindows, asOf: Date) {
  return {
    as_of: asOf.toISOString(),
    delivery_window_minutes: windows.deliveryWindowMinutes,
    delivery_grace_minutes: windows.deliveryGraceMinutes,
    read_window_hours: windows.readWindowHours,
    read_grace_minutes: windows.readGraceMinutes,
    undelivered_after_minutes: windows.undeliveredAfterMinutes,
    undelivered_within_minutes: windows.undeliveredWithinMinutes,
  };
}
