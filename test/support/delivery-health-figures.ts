import type { DeliveryHealth } from '../../lambdas/store/health-store';

/** delivery_health's figures of a healthy hour at `computedAt`: 95 % delivered, 2 % failed, 56 % read, 4 % waiting. */
export const healthyFigures = (computedAt: Date): DeliveryHealth => ({
  computed_at: computedAt.toISOString(),
  cohort_sent: 1_000,
  cohort_delivered: 950,
  cohort_failed: 20,
  delivery_rate_percent: 95,
  failure_rate_percent: 2,
  top_error_code: 131026,
  top_error_title: 'Message undeliverable',
  top_error_count: 12,
  avg_delivery_seconds: 4,
  median_delivery_seconds: 3,
  delivery_latency_samples: 900,
  read_cohort_delivered: 5_000,
  read_cohort_read: 2_800,
  read_rate_percent: 56,
  undelivered_cohort_sent: 1_500,
  undelivered_count: 60,
  undelivered_percent: 4,
});
