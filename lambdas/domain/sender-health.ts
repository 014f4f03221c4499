import * as z from 'zod';
import { type AlarmSettings, SWEEPER_FED_ALARMS } from './alert-settings';
import { METRIC } from './metric-names';
import { SENDER_ID } from './status-update';

/**
 * Delivery health per sender (issue 14, item 2): the senders a user lists in the config (`senderHealth`) get the
 * delivery_health figures of their own messages as metrics with a `Sender` dimension, and, when `alarms: true`, the
 * sweeper-fed alarms of their own. Opt-in and listed one by one because each metric and alarm is billed
 * (senderHealthMonthlyCost; docs/alarms.md#alarms-per-sender). Pure: lib/ and the sweeper read it.
 */

const bool = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);

/**
 * At most this many senders: their list travels to the sweeper in one environment variable (Lambda allows 4 KB for
 * all of them), and each alarmed sender adds four alarms to the stack.
 */
export const MAX_SENDERS = 20;

export const SenderHealthEntry = z.strictObject({
  /** The sender's Meta phone number id (`metadata.phone_number_id`) or AiSensy project id, as stored on messages. */
  id: z.string().max(64).regex(SENDER_ID, 'a phone number id or AiSensy project id: letters, digits, . _ + : -'),
  /** How notifications, alarm descriptions and logs name it, e.g. "IN marketing". */
  name: z
    .string()
    .min(1)
    .max(40)
    // ASCII: it is part of the alarm's name, which is the subject of its notifications.
    .regex(/^[A-Za-z0-9 ._+:()/&-]+$/, 'ASCII letters, digits, spaces and . _ + : ( ) / & -'),
  /** Alarms of its own (delivery rate, undelivered, read rate, delivery time) and failure-spike notifications. */
  alarms: bool.default(false),
});
export type SenderHealthEntry = z.infer<typeof SenderHealthEntry>;

export const SenderHealthSettings = z
  .array(SenderHealthEntry)
  .max(MAX_SENDERS, `at most ${MAX_SENDERS} senders`)
  .superRefine((senders, ctx) => {
    const seen = new Set<string>();
    senders.forEach((sender, index) => {
      if (seen.has(sender.id))
        ctx.addIssue({ code: 'custom', path: [index, 'id'], message: `sender ${sender.id} is listed twice` });
      seen.add(sender.id);
    });
  });
export type SenderHealthSettings = z.infer<typeof SenderHealthSettings>;

/**
 * The senders as the sweeper's environment variable SENDER_HEALTH holds them: `[["<id>","<name>",1],...]` (1: alarms).
 * Tuples rather than objects: Lambda allows 4 KB for all variables, and 20 senders of the longest ids and names
 * fit only this way (a test holds it).
 */
export function senderHealthEnvironment(senders: SenderHealthSettings): string {
  return JSON.stringify(senders.map((s) => [s.id, s.name, s.alarms ? 1 : 0]));
}

/** Reads senderHealthEnvironment's text back, with the config's checks. */
export const SenderHealthFromEnvironment = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be the JSON of [[id, name, 0|1], ...]' });
      return z.NEVER;
    }
  })
  .pipe(z.array(z.tuple([z.string(), z.string(), z.union([z.literal(0), z.literal(1)])])))
  .transform((tuples): z.input<typeof SenderHealthEntry>[] =>
    tuples.map(([id, name, alarms]) => ({ id, name, alarms: alarms === 1 })),
  )
  .pipe(SenderHealthSettings);

/** The alarms a sender with `alarms: true` gets: the ones fed by the sweeper's figures, with the global settings. */
export const SENDER_ALARMS = SWEEPER_FED_ALARMS;
export type SenderAlarmName = (typeof SENDER_ALARMS)[number];

/**
 * The figures published per listed sender: exactly those the per-sender alarms read (each alarm judges a rate over
 * a cohort of at least its minCohort), nothing more, since each is a billed custom metric.
 */
export const SENDER_METRICS = {
  [METRIC.CohortSent]: 'cohort_sent',
  [METRIC.DeliveryRate]: 'delivery_rate_percent',
  [METRIC.UndeliveredCohort]: 'undelivered_cohort_sent',
  [METRIC.UndeliveredPercent]: 'undelivered_percent',
  [METRIC.ReadCohortDelivered]: 'read_cohort_delivered',
  [METRIC.ReadRate]: 'read_rate_percent',
  [METRIC.DeliveryTimeSamples]: 'delivery_latency_samples',
  [METRIC.MedianDeliveryTime]: 'median_delivery_seconds',
} as const;
export type SenderMetricName = keyof typeof SENDER_METRICS;

/** The metrics each per-sender alarm reads (its metric math): an alarm is billed per metric it evaluates. */
export const SENDER_ALARM_METRICS: Record<SenderAlarmName, readonly SenderMetricName[]> = {
  deliveryRate: [METRIC.CohortSent, METRIC.DeliveryRate],
  undelivered: [METRIC.UndeliveredCohort, METRIC.UndeliveredPercent],
  readRate: [METRIC.ReadCohortDelivered, METRIC.ReadRate],
  deliveryTime: [METRIC.DeliveryTimeSamples, METRIC.MedianDeliveryTime],
};

/** CloudWatch list prices (us-east-1, first 10,000 metrics; standard-resolution alarms), checked 2026-11-26. */
export const CLOUDWATCH_PRICES = { customMetricPerMonth: 0.3, alarmMetricPerMonth: 0.1 };

/**
 * What the listed senders add to the CloudWatch bill each month: a custom metric per sender and figure (a metric
 * exists, and is billed, for every month it receives data), and per alarmed sender its enabled alarms, each billed
 * per metric its math reads.
 */
export function senderHealthMonthlyCost(senders: SenderHealthSettings, alarms: AlarmSettings) {
  const metrics = senders.length * Object.keys(SENDER_METRICS).length;
  const enabled = SENDER_ALARMS.filter((name) => alarms[name].enabled);
  const alarmsPerSender = enabled.length;
  const alarmMetricsPerSender = enabled.reduce((sum, name) => sum + SENDER_ALARM_METRICS[name].length, 0);
  const alarmed = senders.filter((s) => s.alarms).length;
  const dollars =
    metrics * CLOUDWATCH_PRICES.customMetricPerMonth +
    alarmed * alarmMetricsPerSender * CLOUDWATCH_PRICES.alarmMetricPerMonth;
  return {
    metrics,
    alarms: alarmed * alarmsPerSender,
    alarmMetrics: alarmed * alarmMetricsPerSender,
    dollarsPerMonth: Math.round(dollars * 100) / 100,
  };
}
