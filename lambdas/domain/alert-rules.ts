import type { AlarmSettings, FailureSpikeSettings } from './alert-settings';
import { remedy } from './whatsapp-errors';

/** The delivery_health figures the rules read (the store's DeliveryHealth has them all). */
export interface HealthFigures {
  cohort_sent: number;
  cohort_failed: number;
  delivery_rate_percent: number | null;
  failure_rate_percent: number | null;
  top_error_code: number | null;
  top_error_title: string | null;
  top_error_count: number;
  median_delivery_seconds: number | null;
  delivery_latency_samples: number;
  read_cohort_delivered: number;
  read_rate_percent: number | null;
  undelivered_cohort_sent: number;
  undelivered_count: number;
  undelivered_percent: number | null;
}

export type HealthAlertName = 'deliveryRate' | 'undelivered' | 'readRate' | 'deliveryTime' | 'failureSpike';

export interface HealthAlert {
  name: HealthAlertName;
  severity: 'critical' | 'warning';
  enabled: boolean;
  fires: boolean;
  value: number | null;
  threshold: number;
  reason: string;
}

/**
 * The database-side alarm rules on one set of figures, with the same settings the stack deploys: a rate is judged
 * only over a cohort of at least `minCohort`. The CloudWatch alarms express the same rules in metric math
 * (lib/constructs/delivery-alarms.ts); a test evaluates both on the same figures and requires the same answer.
 */
export function evaluateHealthAlerts(h: HealthFigures, alarms: AlarmSettings): HealthAlert[] {
  const judged = (cohort: number, min: number) => cohort >= min;
  const small = (what: string, cohort: number, min: number) =>
    `${cohort} ${what}: fewer than the ${min} needed to judge`;

  const rate = alarms.deliveryRate;
  const rateJudged = h.delivery_rate_percent !== null && judged(h.cohort_sent, rate.minCohort);
  const stuck = alarms.undelivered;
  const stuckJudged = h.undelivered_percent !== null && judged(h.undelivered_cohort_sent, stuck.minCohort);
  const read = alarms.readRate;
  const readJudged = h.read_rate_percent !== null && judged(h.read_cohort_delivered, read.minCohort);
  const time = alarms.deliveryTime;
  const timeJudged = h.median_delivery_seconds !== null && judged(h.delivery_latency_samples, time.minCohort);
  const spike = failureSpike(h, alarms.failureSpike);

  return [
    {
      name: 'deliveryRate',
      severity: 'critical',
      enabled: rate.enabled,
      value: h.delivery_rate_percent,
      threshold: rate.threshold,
      fires: rate.enabled && rateJudged && h.delivery_rate_percent! < rate.threshold,
      reason: rateJudged
        ? `delivery rate ${h.delivery_rate_percent} % of ${h.cohort_sent} messages in the delivery cohort (threshold ${rate.threshold} %)`
        : small('messages in the delivery cohort', h.cohort_sent, rate.minCohort),
    },
    {
      name: 'undelivered',
      severity: 'critical',
      enabled: stuck.enabled,
      value: h.undelivered_percent,
      threshold: stuck.threshold,
      fires: stuck.enabled && stuckJudged && h.undelivered_percent! > stuck.threshold,
      reason: stuckJudged
        ? `${h.undelivered_count} of ${h.undelivered_cohort_sent} recent messages (${h.undelivered_percent} %) have neither a delivery nor a failure (threshold ${stuck.threshold} %)`
        : small('recent messages', h.undelivered_cohort_sent, stuck.minCohort),
    },
    {
      name: 'readRate',
      severity: 'warning',
      enabled: read.enabled,
      value: h.read_rate_percent,
      threshold: read.threshold,
      fires: read.enabled && readJudged && h.read_rate_percent! < read.threshold,
      reason: readJudged
        ? `read rate ${h.read_rate_percent} % of ${h.read_cohort_delivered} delivered messages in the read cohort (threshold ${read.threshold} %)`
        : small('delivered messages in the read cohort', h.read_cohort_delivered, read.minCohort),
    },
    {
      name: 'deliveryTime',
      severity: 'warning',
      enabled: time.enabled,
      value: h.median_delivery_seconds,
      threshold: time.threshold,
      fires: time.enabled && timeJudged && h.median_delivery_seconds! > time.threshold,
      reason: timeJudged
        ? `median delivery time ${h.median_delivery_seconds} s over ${h.delivery_latency_samples} deliveries (threshold ${time.threshold} s)`
        : small('reported delivery times', h.delivery_latency_samples, time.minCohort),
    },
    {
      name: 'failureSpike',
      severity: 'warning',
      enabled: alarms.failureSpike.enabled,
      value: h.failure_rate_percent,
      threshold: alarms.failureSpike.threshold,
      fires: spike !== undefined,
      reason: spike
        ? describeFailureSpike(spike)
        : `failure rate ${h.failure_rate_percent ?? 'n/a'} % of ${h.cohort_sent} messages`,
    },
  ];
}

export interface FailureSpike {
  failed: number;
  cohort: number;
  failureRatePercent: number;
  errorCode: number | null;
  errorTitle: string | null;
  /** Share (%) of the failures that carry `errorCode`. */
  errorSharePercent: number;
}

/** A failure spike in the delivery cohort, or undefined when there is none (or too few messages to judge). */
export function failureSpike(h: HealthFigures, settings: FailureSpikeSettings): FailureSpike | undefined {
  if (!settings.enabled || h.failure_rate_percent === null || h.cohort_sent < settings.minCohort) return undefined;
  if (h.failure_rate_percent < settings.threshold) return undefined;
  return {
    failed: h.cohort_failed,
    cohort: h.cohort_sent,
    failureRatePercent: h.failure_rate_percent,
    errorCode: h.top_error_code,
    errorTitle: h.top_error_title,
    errorSharePercent: h.cohort_failed > 0 ? Math.round((1000 * h.top_error_count) / h.cohort_failed) / 10 : 0,
  };
}

/** What to do about a failure with this code: the error catalogue's remedy (whatsapp-errors.ts). */
export function nextStep(code: number | null): string {
  return remedy(code);
}

export function describeFailureSpike(s: FailureSpike): string {
  const code =
    s.errorCode === null ? 'no error code' : `error ${s.errorCode}${s.errorTitle ? ` (${s.errorTitle})` : ''}`;
  return `${s.failureRatePercent} % of ${s.cohort} recent messages failed; ${s.errorSharePercent} % of the ${s.failed} failures carry ${code}`;
}

/**
 * The failure-spike notification as plain text (email, chat); with `sender` (its name and id), the spike of that
 * sender's messages alone (docs/alarms.md#alarms-per-sender).
 */
export function formatFailureSpike(
  s: FailureSpike,
  runbookUrl: string,
  sender?: string,
): { subject: string; message: string } {
  const from = sender ? ` from ${sender}` : '';
  const subject = `[warning] WhatsApp failures${from}: ${s.failureRatePercent} % failed${s.errorCode === null ? '' : `, mostly ${s.errorCode}`}`;
  const message = [
    `${sender ? `Sender ${sender}: ` : ''}${describeFailureSpike(s)}.`,
    '',
    `What to do: ${nextStep(s.errorCode)}`,
    '',
    sender
      ? 'Checks: npm run report -- --since 2h --by sender (failures by sender and error code);'
      : 'Checks: npm run report -- --since 2h --by campaign (failures by error code and campaign);',
    sender
      ? 'the sweeper log line "delivery health by sender" has every figure.'
      : 'the sweeper log line "delivery health" has every figure.',
    `Runbook: ${runbookUrl}#failure-spike`,
  ].join('\n');
  return { subject, message };
}
