import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import * as z from 'zod';
import { formatDailySummary, previousUtcDay } from '../domain/delivery-summary';
import type { DeliveryHealth, HealthStore, HealthWindows } from '../store/health-store';
import type { SummaryNotifier } from './summary-notifier';
import { METRIC } from '../shared/metric-names';

/** The schedule's input: `{"kind": "health"}` every few minutes, `{"kind": "daily-summary"}` once a day. */
export const SweeperEvent = z.looseObject({ kind: z.enum(['health', 'daily-summary']).default('health') });

export interface SweeperDependencies {
  store: () => Promise<HealthStore> | HealthStore;
  metrics: Metrics;
  logger: Logger;
  windows: HealthWindows;
  notifier?: SummaryNotifier;
  now?: () => Date;
}

/**
 * The scheduled sweeper: computes the alarm figures from the database in one call and publishes them as metrics;
 * once a day it also sends the previous day's summary. A figure with no data (no traffic) is not published, so the
 * alarms see missing data rather than a false 0 %; `SweeperRuns` is published on every run, so a dead sweeper is
 * visible as its absence.
 */
export function createSweeper(deps: SweeperDependencies) {
  const { metrics, logger } = deps;
  const now = deps.now ?? (() => new Date());

  return async function sweep(rawEvent: unknown): Promise<DeliveryHealth | { summarySent: boolean }> {
    const event = SweeperEvent.parse(rawEvent ?? {});
    const store = await deps.store();
    if (event.kind === 'daily-summary') {
      const day = previousUtcDay(now());
      const summary = await store.deliverySummary(day.from, day.to);
      const { subject, message } = formatDailySummary(day.label, summary);
      await deps.notifier?.publish(subject, message);
      logger.info('daily summary', { day: day.label, ...summary });
      return { summarySent: Boolean(deps.notifier) };
    }

    const health = await store.deliveryHealth(deps.windows, now());
    metrics.addMetric(METRIC.SweeperRuns, MetricUnit.Count, 1);
    metrics.addMetric(METRIC.CohortSent, MetricUnit.Count, health.cohort_sent);
    metrics.addMetric(METRIC.UndeliveredMessages, MetricUnit.Count, health.undelivered_count);
    if (health.delivery_rate_percent !== null) metrics.addMetric(METRIC.DeliveryRate, MetricUnit.Percent, health.delivery_rate_percent);
    if (health.read_rate_percent !== null) metrics.addMetric(METRIC.ReadRate, MetricUnit.Percent, health.read_rate_percent);
    if (health.avg_delivery_seconds !== null) metrics.addMetric(METRIC.AvgDeliveryTime, MetricUnit.Seconds, health.avg_delivery_seconds);
    metrics.publishStoredMetrics();
    logger.info('delivery health', health);
    return health;
  };
}
