import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { type AccountEvent, accountNotification, SEVERITIES } from '../domain/account-events';
import { METRIC } from '../domain/metric-names';
import { safeError } from '../shared/log-safe';
import type { StatusStore } from '../store/status-store';
import type { AccountNotifier } from './account-notifier';

/**
 * The account and template events of a batch: recorded (record_account_events returns only the ones it had not seen,
 * so a webhook Meta retries notifies once), counted by severity, and sent to the alert topics when critical or
 * warning. A database error throws, like the statuses' (the batch returns to the queue; recording is idempotent). A
 * notification that cannot be sent is logged and counted (AccountNotificationFailures, which alarms), never thrown:
 * the event is recorded, and failing the batch would not send it again.
 */
export async function recordAccountEvents(
  events: readonly AccountEvent[],
  deps: { store: StatusStore; notifier?: AccountNotifier; logger: Logger; metrics: Metrics },
): Promise<void> {
  if (events.length === 0) return;
  // Critical first, then warnings, each in the order Meta dated them (then by subject, so the order is fixed).
  const key = (e: AccountEvent) => `${e.occurred_at}|${e.subject_type}|${e.subject_id ?? ''}|${e.event}`;
  const recorded = (await deps.store.recordAccountEvents(events)).sort(
    (a, b) => SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) || key(a).localeCompare(key(b)),
  );
  const bySeverity = new Map<string, number>();
  for (const event of recorded) bySeverity.set(event.severity, (bySeverity.get(event.severity) ?? 0) + 1);
  for (const [severity, count] of bySeverity) {
    const single = deps.metrics.singleMetric();
    single.addDimension('Severity', severity);
    single.addMetric(METRIC.AccountEvents, MetricUnit.Count, count);
  }
  for (const event of recorded) {
    const notification = accountNotification(event);
    // Business numbers and template names only: an account event names no recipient.
    const about = { field: event.field, event: event.event, severity: event.severity, subject: event.subject_id };
    if (!notification) {
      deps.logger.info('account event recorded', about);
      continue;
    }
    if (!deps.notifier) {
      deps.logger.warn('account event recorded; no alert topic is configured to notify', about);
      continue;
    }
    try {
      await deps.notifier.notify(notification);
      deps.logger.warn('account event notified', about);
    } catch (error) {
      deps.metrics.addMetric(METRIC.AccountNotificationFailures, MetricUnit.Count, 1);
      deps.logger.error('account event recorded but not notified', { ...about, error: safeError(error) });
    }
  }
}
