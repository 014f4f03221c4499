import { AlarmsConfig } from '../lib/config';
import type { DeliveryHealth } from '../lambdas/store/health-store';

export interface AlertResult {
  name: 'deliveryRate' | 'undelivered' | 'readRate' | 'deliveryTime';
  severity: 'critical' | 'warning';
  fires: boolean;
  value: number | null;
  threshold: number;
  reason: string;
}

/** The alarms that read only the database, with the deployed stack's default thresholds (or the ones given). */
export function evaluateAlerts(health: DeliveryHealth, settings: AlarmsConfig = AlarmsConfig.parse({})): AlertResult[] {
  const rule = (
    name: AlertResult['name'],
    severity: AlertResult['severity'],
    value: number | null,
    threshold: number,
    breaches: (v: number, t: number) => boolean,
    describe: (v: number, t: number) => string,
    noData: string,
  ): AlertResult => ({
    name,
    severity,
    value,
    threshold,
    fires: value !== null && breaches(value, threshold),
    reason: value === null ? noData : describe(value, threshold),
  });
  return [
    rule('deliveryRate', 'critical', health.delivery_rate_percent, settings.deliveryRate.threshold, (v, t) => v < t,
      (v, t) => `delivery rate ${v} % of ${health.cohort_sent} messages sent in the cohort hour (threshold ${t} %)`, 'no message in the delivery cohort'),
    rule('undelivered', 'critical', health.undelivered_count, settings.undelivered.threshold, (v, t) => v > t,
      (v, t) => `${v} messages sent but neither delivered nor failed for over 10 minutes (threshold ${t})`, 'no data'),
    rule('readRate', 'warning', health.read_rate_percent, settings.readRate.threshold, (v, t) => v < t,
      (v, t) => `read rate ${v} % of ${health.read_cohort_delivered} delivered in the 24-hour cohort (threshold ${t} %)`, 'no delivered message in the read cohort'),
    rule('deliveryTime', 'warning', health.avg_delivery_seconds, settings.deliveryTime.threshold, (v, t) => v > t,
      (v, t) => `average delivery time ${v} s over ${health.delivery_latency_samples} messages (threshold ${t} s)`, 'no reported delivery time in the cohort'),
  ];
}

/** The alarms only CloudWatch can evaluate: listed so nobody mistakes a green check for all clear. */
export const CLOUDWATCH_ONLY = ['databaseErrors', 'deadLetters', 'webhookErrors', 'sweeperNotRunning', 'slowDatabase', 'queueAge', 'throttles', 'webhookSilence'];
