import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { failureSpike, formatFailureSpike } from '../domain/alert-rules';
import { type CohortSettings, cohortInstant, type FailureSpikeSettings, healthWindows } from '../domain/alert-settings';
import { METRIC } from '../domain/metric-names';
import { type RetentionRun, retentionRun } from '../domain/retention';
import { SENDER_METRICS, type SenderHealthEntry, type SenderHealthSettings } from '../domain/sender-health';
import { formatDailySummary, previousUtcDay } from '../report/daily-summary';
import { withDeadline } from '../shared/deadline';
import type { DeliveryHealth, HealthStore, SenderDeliveryHealth, SenderHealthStore } from '../store/health-store';
import type { RetentionStore } from '../store/retention-store';
import type { RollupStore } from '../store/rollup-store';
import { type DailyReportLinks, type ReportLink, reportLinkLines } from './report-link';
import type { SummaryNotifier } from './summary-notifier';

/** The schedule's input: `{"kind": "health"}` every few minutes, `{"kind": "daily-summary"}` once a day. */
export const SweeperEvent = z.looseObject({ kind: z.enum(['health', 'daily-summary']).default('health') });

/**
 * What the sweeper reads, folds and deletes through. The per-sender figures and retention are needed only when
 * configured, and rollup upkeep only where the database has rollups, so a store that serves the global figures alone
 * is enough without them.
 */
export type SweeperStore = HealthStore & Partial<SenderHealthStore> & Partial<RetentionStore> & Partial<RollupStore>;

export interface SweeperDependencies {
  store: () => Promise<SweeperStore> | SweeperStore;
  metrics: Metrics;
  logger: Logger;
  /** The cohort windows and the sweeper's own interval (lambdas/domain/alert-settings.ts). */
  cohorts: CohortSettings;
  failureSpike: FailureSpikeSettings;
  /** Receives the daily summary (the info topic). */
  notifier?: SummaryNotifier;
  /** Renders the day's HTML report and shares it as a link at the end of the summary; unset: no link. */
  reportLinks?: DailyReportLinks;
  /**
   * How long the link may take before the summary goes without it, so that a slow database or S3 cannot time the
   * whole function out (60 s) and lose the summary too. @default 30,000
   */
  reportLinkTimeoutMs?: number;
  /** Receives failure-spike notifications (the warning topic). */
  alertNotifier?: SummaryNotifier;
  /** Where people find the runbook (docs/runbook.md, or its published address). */
  runbookUrl?: string;
  /**
   * Senders whose figures are published with a `Sender` dimension (config `senderHealth`); those with `alarms: true`
   * also get failure-spike notifications of their own. @default none
   */
  senderHealth?: SenderHealthSettings;
  /**
   * Delete the messages sent more than `days` ago, in batches, within a time budget, on every health run (config
   * `retentionDays`, docs/retention.md). @default unset: nothing is deleted
   */
  retention?: { days: number } & Partial<Omit<RetentionRun, 'olderThan'>>;
  now?: () => Date;
  /** Milliseconds on a monotonic clock, for call durations and the retention budget (a simulation passes its own). */
  clock?: () => number;
}

/** Remaining expired rows are counted up to this (an index-only count that stays cheap on a huge backlog). */
const REMAINING_COUNT_CAP = 1_000_000;

/**
 * The scheduled sweeper: computes the alarm figures from the database in one call and publishes them as metrics;
 * once a day it also sends the previous day's summary.
 *
 * - `SweeperRuns` is published on every run, also when the database cannot be reached (then `DatabaseErrors` is
 *   too), so `sweeperNotRunning` means the schedule or the function is broken, not the database.
 * - A rate with no data (nothing sent) is not published; cohort sizes always are, and the alarms judge a rate only
 *   over a cohort of at least their `minCohort`.
 * - A failure spike (lambdas/domain/alert-rules.ts) is notified once, when it starts: the previous run's cohort is
 *   computed again to tell a new spike from one already notified.
 * - The senders listed in `senderHealth` get the alarms' figures again, each with its `Sender` dimension.
 * - With `retention` set, each health run then deletes expired messages for up to its time budget.
 * - Last, it folds the rollups' pending rows (compact_rollups), which keeps the report's and the alarms' reads short.
 */
export function createSweeper(deps: SweeperDependencies) {
  const { metrics, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const clock = deps.clock ?? (() => performance.now());
  const windows = healthWindows(deps.cohorts);
  const runbookUrl = deps.runbookUrl ?? 'docs/runbook.md';

  async function measured<T>(call: () => Promise<T>): Promise<T> {
    const started = clock();
    try {
      return await call();
    } catch (error) {
      metrics.addMetric(METRIC.DatabaseErrors, MetricUnit.Count, 1);
      throw error;
    } finally {
      metrics.addMetric(METRIC.DatabaseCallDuration, MetricUnit.Milliseconds, Math.round(clock() - started));
    }
  }

  async function dailySummary(): Promise<{ summarySent: boolean }> {
    const day = previousUtcDay(now());
    try {
      const store = await deps.store();
      const summary = await measured(() => store.deliverySummary(day.from, day.to));
      const link = deps.reportLinks ? await reportLink(deps.reportLinks, day) : undefined;
      const { subject, message } = formatDailySummary(day.label, summary);
      const text = link ? [message, '', ...reportLinkLines(link, day)].join('\n') : message;
      await deps.notifier?.publish(subject, text);
      logger.info('daily summary', { day: day.label, ...summary, reportLink: link ? !('failed' in link) : undefined });
      return { summarySent: Boolean(deps.notifier) };
    } catch (error) {
      // Thrown again so EventBridge retries; the metric lets the dailySummary alarm say that it failed.
      metrics.addMetric(METRIC.DailySummaryFailures, MetricUnit.Count, 1);
      throw error;
    }
  }

  /**
   * The day's report as a link. A failure (the database, the renderer, S3) costs the link only: the summary still
   * goes out, saying so, and DailyReportLinkFailures counts it.
   */
  async function reportLink(links: DailyReportLinks, day: ReturnType<typeof previousUtcDay>) {
    try {
      const link: ReportLink = await withDeadline(
        deps.reportLinkTimeoutMs ?? 30_000,
        () => links.publish(day),
        () => new Error('the report link took too long'),
      );
      logger.info('daily report link', { key: link.key, expiresAt: link.expiresAt.toISOString() });
      // Their reasons are masked (report-data.ts: sectionFailure); the summary names them too, and the metric shows
      // a section (top_recipients, on a growing table) that keeps meeting the API's statement timeout.
      if (link.unavailableSections.length) {
        metrics.addMetric(METRIC.DailyReportSectionsUnavailable, MetricUnit.Count, link.unavailableSections.length);
        logger.warn('daily report page is without some sections', { unavailableSections: link.unavailableSections });
      }
      return link;
    } catch (error) {
      metrics.addMetric(METRIC.DailyReportLinkFailures, MetricUnit.Count, 1);
      logger.error('daily report link failed; the summary goes without it', { error });
      return { failed: true } as const;
    }
  }

  async function health(): Promise<DeliveryHealth> {
    const at = cohortInstant(now());
    metrics.addMetric(METRIC.SweeperRuns, MetricUnit.Count, 1);
    const store = await deps.store();
    const figures = await measured(() => store.deliveryHealth(windows, at));
    publishFigures(figures);
    logger.info('delivery health', figures);

    const spike = failureSpike(figures, deps.failureSpike);
    if (spike && deps.alertNotifier) {
      const previousAt = new Date(at.getTime() - deps.cohorts.sweeperIntervalMinutes * 60_000);
      const before = await measured(() => store.deliveryHealth(windows, previousAt));
      if (!failureSpike(before, deps.failureSpike)) {
        const { subject, message } = formatFailureSpike(spike, runbookUrl);
        await deps.alertNotifier.publish(subject, message);
        logger.warn('failure spike notified', { ...spike });
      }
    }
    // Each below logs and counts its own failure (DatabaseErrors) without failing the run: the global figures are
    // already measured, and one part down must not blind the other.
    await senderHealth(store, at).catch((error) => logger.error('delivery health by sender failed', { error }));
    await expireMessages(store, at).catch((error) => logger.error('retention failed; the next run goes on', { error }));
    await compactRollups(store).catch((error) =>
      logger.error('rollup compaction failed; the figures stay right, reads slow until a run succeeds', { error }),
    );
    return figures;
  }

  /**
   * The listed senders' figures, as metrics with the dimension `Sender` (only those SENDER_METRICS names: each is a
   * billed custom metric), and a failure spike of a sender with `alarms: true` notified once, naming it.
   */
  async function senderHealth(store: SweeperStore, at: Date): Promise<void> {
    const senders = deps.senderHealth ?? [];
    if (senders.length === 0) return;
    if (!store.deliveryHealthBySender) throw new Error('this store cannot compute delivery health by sender');
    const bySender = store.deliveryHealthBySender.bind(store);
    const ids = senders.map((s) => s.id);
    const rows = await measured(() => bySender(windows, ids, at));
    const byId = new Map(senders.map((s) => [s.id, s]));
    for (const row of rows) {
      publishFigures(row, (name, unit, value) => {
        if (!(name in SENDER_METRICS)) return;
        const single = metrics.singleMetric();
        single.addDimension('Sender', row.sender_id);
        single.addMetric(name, unit, value);
      });
      logger.info('delivery health by sender', { sender: byId.get(row.sender_id)?.name, ...row });
    }

    if (!deps.alertNotifier) return;
    const spiking = rows.flatMap((row) => {
      const sender = byId.get(row.sender_id);
      const spike = sender?.alarms ? failureSpike(row, deps.failureSpike) : undefined;
      return sender && spike ? [{ sender, spike }] : [];
    });
    if (spiking.length === 0) return;
    const previousAt = new Date(at.getTime() - deps.cohorts.sweeperIntervalMinutes * 60_000);
    const before = await measured(() =>
      bySender(
        windows,
        spiking.map((s) => s.sender.id),
        previousAt,
      ),
    );
    const spikedBefore = new Set(
      before.filter((row) => failureSpike(row, deps.failureSpike)).map((row: SenderDeliveryHealth) => row.sender_id),
    );
    for (const { sender, spike } of spiking) {
      if (spikedBefore.has(sender.id)) continue;
      const { subject, message } = formatFailureSpike(spike, runbookUrl, senderLabel(sender));
      await deps.alertNotifier.publish(subject, message);
      logger.warn('failure spike notified', { sender: sender.name, senderId: sender.id, ...spike });
    }
  }

  /**
   * Retention: small delete batches until none is full (nothing left) or the time budget is spent; the rest goes
   * on the next run. Logs what it deleted and, when it stopped at the budget, about how many remain.
   */
  async function expireMessages(store: SweeperStore, at: Date): Promise<void> {
    if (!deps.retention) return;
    if (!store.deleteExpiredMessages || !store.expiredMessagesRemaining)
      throw new Error('this store cannot delete expired messages');
    const { days, ...overrides } = deps.retention;
    const run = retentionRun(at, days, overrides);
    const started = clock();
    let deleted = 0;
    let batches = 0;
    let finished = false;
    try {
      while (clock() - started < run.budgetMs) {
        const n = await measured(() => store.deleteExpiredMessages!(run.olderThan, run.batchSize));
        deleted += n;
        batches += 1;
        if (n < run.batchSize) {
          finished = true;
          break;
        }
      }
      const remaining = finished
        ? 0
        : await measured(() => store.expiredMessagesRemaining!(run.olderThan, REMAINING_COUNT_CAP));
      logger.info('retention', {
        olderThan: run.olderThan.toISOString(),
        deleted,
        batches,
        // Capped: "at least" this many when it equals the cap.
        remaining,
        remainingCapped: remaining >= REMAINING_COUNT_CAP,
        milliseconds: Math.round(clock() - started),
      });
    } finally {
      metrics.addMetric(METRIC.RetentionDeletedMessages, MetricUnit.Count, deleted);
    }
  }

  /** Rollup upkeep (docs/design.md#rollups): after the figures, so a long fold never delays the alarms' metrics. */
  async function compactRollups(store: SweeperStore): Promise<void> {
    if (!store.compactRollups) return;
    const started = clock();
    const removed = await measured(() => store.compactRollups!());
    logger.info('rollups compacted', { removed, milliseconds: Math.round(clock() - started) });
  }

  type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];
  function publishFigures(
    h: DeliveryHealth,
    add: (name: string, unit: Unit, value: number) => void = (name, unit, value) =>
      metrics.addMetric(name, unit, value),
  ): void {
    const count = (name: string, value: number) => add(name, MetricUnit.Count, value);
    const optional = (name: string, unit: Unit, value: number | null) => {
      if (value !== null) add(name, unit, value);
    };
    count(METRIC.CohortSent, h.cohort_sent);
    count(METRIC.UndeliveredCohort, h.undelivered_cohort_sent);
    count(METRIC.UndeliveredMessages, h.undelivered_count);
    count(METRIC.ReadCohortDelivered, h.read_cohort_delivered);
    count(METRIC.DeliveryTimeSamples, h.delivery_latency_samples);
    optional(METRIC.DeliveryRate, MetricUnit.Percent, h.delivery_rate_percent);
    optional(METRIC.FailureRate, MetricUnit.Percent, h.failure_rate_percent);
    optional(METRIC.UndeliveredPercent, MetricUnit.Percent, h.undelivered_percent);
    optional(METRIC.ReadRate, MetricUnit.Percent, h.read_rate_percent);
    optional(METRIC.AvgDeliveryTime, MetricUnit.Seconds, h.avg_delivery_seconds);
    optional(METRIC.MedianDeliveryTime, MetricUnit.Seconds, h.median_delivery_seconds);
  }

  async function sweep(rawEvent: unknown): Promise<DeliveryHealth | { summarySent: boolean }> {
    const event = SweeperEvent.parse(rawEvent ?? {});
    return event.kind === 'daily-summary' ? await dailySummary() : await health();
  }

  // Powertools' logMetrics middleware publishes what the run measured, once, also when it throws (SweeperRuns and
  // DatabaseErrors when the database cannot be reached). It wraps this function rather than only handler.ts so that
  // the alert simulator and the tests publish the same way. Outside Lambda, middy stands in an empty context.
  const withMetrics = middy(sweep).use(logMetrics(metrics));
  return (event: unknown, context?: Context): Promise<DeliveryHealth | { summarySent: boolean }> =>
    withMetrics(event, context as Context);
}

/** How notifications name a sender: its name and its id. */
const senderLabel = (sender: SenderHealthEntry) => `${sender.name} (${sender.id})`;
