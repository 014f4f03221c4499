import { Duration, Stack } from 'aws-cdk-lib';
import {
  Alarm,
  AlarmRule,
  AlarmState,
  ComparisonOperator,
  CompositeAlarm,
  type IAlarm,
  type IMetric,
  MathExpression,
  type Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { type AlarmSettings, type CloudWatchAlarmName, datapointsToAlarm } from '../../lambdas/domain/alert-settings';
import {
  SENDER_ALARMS,
  type SenderAlarmName,
  type SenderHealthSettings,
  type SenderMetricName,
} from '../../lambdas/domain/sender-health';
import type { AlertTopics, Severity } from './alert-topics';
import type { ArchiveStorage } from './archive-storage';
import type { TrackerMetrics } from './tracker-metrics';
import type { WebhookApiMetrics } from './webhook-api';

export interface DeliveryAlarmsProps {
  readonly topics: AlertTopics;
  readonly settings: AlarmSettings;
  /** The stack's custom metrics (their `service` dimension is the stack's own). */
  readonly metrics: TrackerMetrics;
  readonly api: WebhookApiMetrics;
  readonly ingest: IFunction;
  readonly processor: IFunction;
  readonly sweeper: IFunction;
  readonly queue: IQueue;
  readonly deadLetterQueue: IQueue;
  /** The webhook archive; unset (archive off): no archiveFailures alarm. */
  readonly archive?: ArchiveStorage;
  /** The status-change events' retry dead-letter queue; unset (statusEvents off): no statusEvents alarm. */
  readonly statusEventDeadLetterQueue?: IQueue;
  /** The status-change outbox's relay: its errors (the outbox not drained) count in the statusEvents alarm. */
  readonly statusEventRelay?: IFunction;
  /** The runbook's address; each alarm's description links its section. */
  readonly runbookUrl: string;
  /**
   * Senders listed for per-sender health; those with `alarms: true` get the sweeper-fed alarms of their own, on the
   * metrics the sweeper publishes with their `Sender` dimension. @default none
   */
  readonly senderHealth?: SenderHealthSettings;
}

/** What an alarm watches, and what the person it wakes needs to read first. */
interface AlarmSpec {
  severity: Exclude<Severity, 'info'>;
  /** What it means, in one sentence. */
  meaning: string;
  /** The first two things to check, with the exact command or console place. */
  checks: [string, string];
  /** Section of docs/runbook.md (a stable anchor: tests check it exists). */
  anchor: string;
  metric: (period: Duration) => IMetric;
  comparison: ComparisonOperator;
  /**
   * Figures that exist only with traffic treat missing data as fine (no messages at night pages nobody); signs of
   * life (sweeper runs, webhook requests) treat it as breaching.
   */
  missing: TreatMissingData;
}

/** Each alarm's section in docs/runbook.md. */
export const RUNBOOK_ANCHORS: Record<CloudWatchAlarmName, string> = {
  deliveryRate: 'delivery-rate',
  undelivered: 'undelivered',
  webhooksRefused: 'webhooks-refused',
  webhookSilence: 'webhook-silence',
  databaseErrors: 'database-errors',
  deadLetters: 'dead-letters',
  webhookErrors: 'webhook-errors',
  sweeperNotRunning: 'sweeper-not-running',
  readRate: 'read-rate',
  deliveryTime: 'delivery-time',
  slowDatabase: 'slow-database',
  queueAge: 'queue-age',
  throttles: 'throttles',
  apiLatency: 'api-latency',
  dailySummary: 'daily-summary',
  webhookAbsent: 'webhook-absent',
  statusEvents: 'status-events',
  accountNotifications: 'account-notifications',
  archiveFailures: 'archive-failures',
};

/**
 * The alarms, each notifying its severity's topic on ALARM and on OK, from the settings in
 * lambdas/domain/alert-settings.ts. docs/alarms.md says which failure each catches; the alert simulator
 * (`npm run alerts:simulate`) replays realistic days against exactly what this construct synthesizes.
 */
export class DeliveryAlarms extends Construct {
  /** The alarms that notify people, by name (webhookSilence is a composite alarm). */
  public readonly alarms: Partial<Record<CloudWatchAlarmName, IAlarm>> = {};
  /** The per-sender alarms, by sender id and alarm name (senders listed with `alarms: true` only). */
  public readonly senderAlarms: Record<string, Partial<Record<SenderAlarmName, IAlarm>>> = {};

  constructor(scope: Construct, id: string, props: DeliveryAlarmsProps) {
    super(scope, id);
    const { api, ingest, processor, sweeper, queue, deadLetterQueue, settings, metrics: m } = props;
    const sum = (metric: Metric, period: Duration) => metric.with({ statistic: 'Sum', period });
    const avg = (name: Parameters<TrackerMetrics['metric']>[0], period: Duration) =>
      m.metric(name, { statistic: 'Average', period });

    const specs: Partial<Record<Exclude<CloudWatchAlarmName, 'webhookSilence'>, AlarmSpec>> = {
      ...sweeperFedSpecs(settings, avg),
      webhooksRefused: {
        severity: 'critical',
        meaning: `At least ${settings.webhooksRefused.threshold} % of webhook requests were refused (4xx) or their statuses rejected: those statuses are lost unless the provider retries.`,
        checks: [
          'Ingest logs: "webhook refused" / "webhook items rejected" give the reason (signature, token, allow-list, body).',
          'Was the webhook secret rotated or the allow-list changed? Compare with the provider dashboard.',
        ],
        anchor: RUNBOOK_ANCHORS.webhooksRefused,
        metric: (p) => {
          const min = settings.webhooksRefused.minRequests;
          const refused = math(
            `IF(FILL(requests, 0) >= ${min}, 100 * FILL(clientErrors, 0) / FILL(requests, 1), 0)`,
            { requests: sum(api.metricCount(), p), clientErrors: sum(api.metricClientError(), p) },
            'refused requests %',
            p,
          );
          const rejected = math(
            `IF(FILL(accepted, 0) + FILL(rejectedItems, 0) >= ${min}, 100 * FILL(rejectedItems, 0) / (FILL(accepted, 0) + FILL(rejectedItems, 1)), 0)`,
            {
              accepted: m.metric('StatusesAccepted', { statistic: 'Sum', period: p }),
              rejectedItems: m.metric('ItemsRejected', { statistic: 'Sum', period: p }),
            },
            'rejected statuses %',
            p,
          );
          return math('IF(refused > rejected, refused, rejected)', { refused, rejected }, 'refused %', p);
        },
        comparison: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        missing: TreatMissingData.NOT_BREACHING,
      },
      databaseErrors: {
        severity: 'critical',
        meaning:
          'Calls to the database fail (processor batches or sweeper runs): statuses wait in the queue and the figures stop.',
        checks: [
          'Supabase dashboard: project paused, over its connection limit, or down? Processor logs: the error code.',
          'Queue depth and dead letters on the dashboard; after the fix: npm run dlq:redrive if dead letters appeared.',
        ],
        anchor: RUNBOOK_ANCHORS.databaseErrors,
        metric: (p) =>
          math(
            'FILL(databaseErrors, 0) + FILL(processorErrors, 0)',
            {
              databaseErrors: m.metric('DatabaseErrors', { statistic: 'Sum', period: p }),
              processorErrors: sum(processor.metricErrors(), p),
            },
            'database errors',
            p,
          ),
        comparison: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        missing: TreatMissingData.NOT_BREACHING,
      },
      deadLetters: {
        severity: 'critical',
        meaning: 'Messages are in the dead-letter queue: statuses not stored.',
        checks: [
          'Processor logs for the failed records (reason, correlation id); fix the cause first.',
          'npm run dlq:redrive -- --dry-run, then npm run dlq:redrive.',
        ],
        anchor: RUNBOOK_ANCHORS.deadLetters,
        metric: (p) => deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: p }),
        comparison: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        missing: TreatMissingData.NOT_BREACHING,
      },
      webhookErrors: {
        severity: 'critical',
        meaning:
          'The webhook answered 5xx or the ingest function failed, in consecutive periods: providers retry, then give up.',
        checks: [
          'Ingest logs: "could not queue the statuses" (SQS) or "unexpected ingest failure".',
          'SQS and Lambda health in the AWS Health Dashboard; ingest throttles on the dashboard.',
        ],
        anchor: RUNBOOK_ANCHORS.webhookErrors,
        metric: (p) =>
          math(
            'FILL(api5xx, 0) + FILL(ingestErrors, 0)',
            { api5xx: sum(api.metricServerError(), p), ingestErrors: sum(ingest.metricErrors(), p) },
            'webhook errors',
            p,
          ),
        comparison: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        missing: TreatMissingData.NOT_BREACHING,
      },
      sweeperNotRunning: {
        severity: 'critical',
        meaning: 'The sweeper has not run: the delivery, undelivered and read alarms are blind.',
        checks: [
          'Sweeper logs (output SweeperLogGroupName): an error at start-up? EventBridge rule HealthSchedule enabled?',
          'Lambda throttles and concurrency quota on the dashboard.',
        ],
        anchor: RUNBOOK_ANCHORS.sweeperNotRunning,
        metric: (p) => m.metric('SweeperRuns', { statistic: 'SampleCount', period: p }),
        comparison: ComparisonOperator.LESS_THAN_THRESHOLD,
        missing: TreatMissingData.BREACHING,
      },
      slowDatabase: {
        severity: 'warning',
        meaning: 'Database calls are slow (p90): the queue may fall behind.',
        checks: [
          'Supabase dashboard: CPU, connections, slow queries.',
          'Queue age on the dashboard; processor duration.',
        ],
        anchor: RUNBOOK_ANCHORS.slowDatabase,
        metric: (p) => m.metric('DatabaseCallDuration', { statistic: 'p90', period: p }),
        comparison: ComparisonOperator.GREATER_THAN_THRESHOLD,
        missing: TreatMissingData.NOT_BREACHING,
      },
      queueAge: {
        severity: 'warning',
        meaning: 'The oldest queued status has waited too long: the processor is behind or failing.',
        checks: [
          'Processor errors and throttles on the dashboard; processor logs.',
          'Database health (databaseErrors, slowDatabase).',
        ],
        anchor: RUNBOOK_ANCHORS.queueAge,
        metric: (p) => queue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period: p }),
        comparison: ComparisonOperator.GREATER_THAN_THRESHOLD,
        missing: TreatMissingData.NOT_BREACHING,
      },
      throttles: {
        severity: 'warning',
        meaning: 'Lambda throttled invocations (ingest, processor or sweeper).',
        checks: [
          "Lambda console: account concurrency and the functions' reserved concurrency.",
          'Service Quotas: request a higher concurrency quota.',
        ],
        anchor: RUNBOOK_ANCHORS.throttles,
        metric: (p) =>
          math(
            'FILL(ingestThrottles, 0) + FILL(processorThrottles, 0) + FILL(sweeperThrottles, 0)',
            {
              ingestThrottles: sum(ingest.metricThrottles(), p),
              processorThrottles: sum(processor.metricThrottles(), p),
              sweeperThrottles: sum(sweeper.metricThrottles(), p),
            },
            'throttles',
            p,
          ),
        comparison: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        missing: TreatMissingData.NOT_BREACHING,
      },
      apiLatency: {
        severity: 'warning',
        meaning: 'The webhook answers slowly (p99): providers give up after 5 s and retry or drop the status.',
        checks: [
          'Ingest duration and cold starts (logs: INIT_START); SQS latency.',
          'Secrets Manager throttling in the ingest logs.',
        ],
        anchor: RUNBOOK_ANCHORS.apiLatency,
        metric: (p) => api.metricLatency({ statistic: 'p99', period: p }),
        comparison: ComparisonOperator.GREATER_THAN_THRESHOLD,
        missing: TreatMissingData.NOT_BREACHING,
      },
      dailySummary: {
        severity: 'warning',
        meaning: 'The daily summary could not be computed or sent.',
        checks: [
          'Sweeper logs around the summary hour (output SweeperLogGroupName).',
          'SNS topic policy and the info topic subscriptions.',
        ],
        anchor: RUNBOOK_ANCHORS.dailySummary,
        metric: (p) => m.metric('DailySummaryFailures', { statistic: 'Sum', period: p }),
        comparison: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        missing: TreatMissingData.NOT_BREACHING,
      },
      statusEvents: {
        severity: 'warning',
        meaning:
          'Status-change events were refused by the EventBridge bus (left in the outbox), lost, or dead-lettered, or the relay failed: subscribers see them late or not at all.',
        checks: [
          'Relay logs (output StatusEventRelayLogGroupName): "status events refused by the bus" (message ids) or the error; the outbox: select count(*), min(applied_at) from status_event_outbox.',
          'Event retry dead-letter queue (output StatusEventDeadLetterQueueUrl): redrive it as docs/events.md shows.',
        ],
        anchor: RUNBOOK_ANCHORS.statusEvents,
        metric: (p) =>
          math(
            `FILL(parked, 0) + FILL(lost, 0) + FILL(deadLettered, 0)${props.statusEventRelay ? ' + FILL(relayErrors, 0)' : ''}`,
            {
              parked: m.metric('StatusEventsParked', { statistic: 'Sum', period: p }),
              lost: m.metric('StatusEventsLost', { statistic: 'Sum', period: p }),
              deadLettered: (
                props.statusEventDeadLetterQueue ?? deadLetterQueue
              ).metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: p }),
              ...(props.statusEventRelay
                ? { relayErrors: props.statusEventRelay.metricErrors({ statistic: 'Sum', period: p }) }
                : {}),
            },
            'status events refused, lost or dead-lettered, or relay errors',
            p,
          ),
        comparison: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        missing: TreatMissingData.NOT_BREACHING,
      },
      accountNotifications: {
        severity: 'critical',
        meaning:
          'A template or number event that needed someone (a template disabled or paused, a number flagged or limited, an account restricted) was recorded but its notification could not be sent.',
        checks: [
          'Processor logs (output ProcessorLogGroupName): "account event recorded but not notified", with the event.',
          'Table account_events and the views template_health and phone_number_health: what happened.',
        ],
        anchor: RUNBOOK_ANCHORS.accountNotifications,
        metric: (p) => m.metric('AccountNotificationFailures', { statistic: 'Sum', period: p }),
        comparison: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        missing: TreatMissingData.NOT_BREACHING,
      },
      webhookAbsent: {
        severity: 'warning',
        meaning: `No webhook request at all for ${(settings.webhookAbsent.periodMinutes * settings.webhookAbsent.evaluationPeriods) / 60} hours: the provider stopped calling, or the webhook URL is not configured.`,
        checks: [
          'Provider dashboard: webhook URL and its delivery log.',
          'API Gateway access logs (output ApiAccessLogGroupName).',
        ],
        anchor: RUNBOOK_ANCHORS.webhookAbsent,
        metric: (p) => sum(api.metricCount(), p),
        comparison: ComparisonOperator.LESS_THAN_THRESHOLD,
        missing: TreatMissingData.BREACHING,
      },
    };
    const archive = props.archive;
    if (archive) {
      const maxAgeSeconds = settings.archiveFailures.maxDeliveryAgeMinutes * 60;
      specs.archiveFailures = {
        severity: 'warning',
        meaning: `Webhooks are not reaching the archive: the ingest could not write them, or Firehose has held records for over ${settings.archiveFailures.maxDeliveryAgeMinutes} minutes. Their statuses were stored regardless; replay cannot rebuild them.`,
        checks: [
          'Ingest logs: "could not archive the webhook" (throttled: Firehose quota; AccessDenied: the role).',
          'Firehose delivery logs and DeliveryToS3.DataFreshness (output ArchiveStreamName): is the bucket refusing writes?',
        ],
        anchor: RUNBOOK_ANCHORS.archiveFailures,
        metric: (p) =>
          math(
            `FILL(failures, 0) + IF(FILL(freshness, 0) > ${maxAgeSeconds}, 1, 0)`,
            {
              failures: m.metric('ArchiveFailures', { statistic: 'Sum', period: p }),
              freshness: archive.metricDataFreshness(p),
            },
            'archive failures',
            p,
          ),
        comparison: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        missing: TreatMissingData.NOT_BREACHING,
      };
    }

    const describe = (spec: Pick<AlarmSpec, 'severity' | 'meaning' | 'checks' | 'anchor'>) =>
      `[${spec.severity}] ${spec.meaning} Check 1: ${spec.checks[0]} Check 2: ${spec.checks[1]} Runbook: ${props.runbookUrl}#${spec.anchor}`;
    const notify = (
      alarm: IAlarm & { addAlarmAction(...a: SnsAction[]): void; addOkAction(...a: SnsAction[]): void },
      severity: AlarmSpec['severity'],
    ) => {
      const action = new SnsAction(props.topics[severity]);
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
    };

    for (const [name, spec] of Object.entries(specs) as [Exclude<CloudWatchAlarmName, 'webhookSilence'>, AlarmSpec][]) {
      const s = settings[name];
      if (!s.enabled) continue;
      if (name === 'statusEvents' && !props.statusEventDeadLetterQueue) continue;
      const alarm = new Alarm(this, upperFirst(name), {
        alarmDescription: describe(spec),
        metric: spec.metric(Duration.minutes(s.periodMinutes)),
        threshold: s.threshold,
        comparisonOperator: spec.comparison,
        evaluationPeriods: s.evaluationPeriods,
        datapointsToAlarm: datapointsToAlarm(s),
        treatMissingData: spec.missing,
      });
      notify(alarm, spec.severity);
      this.alarms[name] = alarm;
    }

    // Per sender: the same rules and settings over the sender's own figures (docs/alarms.md#alarms-per-sender). The
    // construct id holds the sender's index, not its id, so renaming a sender's label never replaces its alarms; the
    // description names it.
    (props.senderHealth ?? []).forEach((sender, index) => {
      if (!sender.alarms) return;
      const senderAvg: AverageOf = (name, period) =>
        m.metric(name, { statistic: 'Average', period, dimensions: { Sender: sender.id } });
      const senderSpecs = sweeperFedSpecs(settings, senderAvg);
      const made: Partial<Record<SenderAlarmName, IAlarm>> = {};
      for (const name of SENDER_ALARMS) {
        const s = settings[name];
        if (!s.enabled) continue;
        const spec = senderSpecs[name];
        const alarm = new Alarm(this, `Sender${index + 1}${upperFirst(name)}`, {
          // The notification's subject is the alarm's name: it says which sender, which alarm, which stack.
          alarmName: `${Stack.of(this).stackName} ${name} sender ${sender.name} (${sender.id})`,
          alarmDescription: describe({
            ...spec,
            meaning: `Sender ${sender.name} (${sender.id}): ${spec.meaning}`,
            checks: [`npm run report -- --since 2h --by sender: the figures of ${sender.name}.`, spec.checks[1]],
          }),
          metric: spec.metric(Duration.minutes(s.periodMinutes)),
          threshold: s.threshold,
          comparisonOperator: spec.comparison,
          evaluationPeriods: s.evaluationPeriods,
          datapointsToAlarm: datapointsToAlarm(s),
          treatMissingData: spec.missing,
        });
        notify(alarm, spec.severity);
        made[name] = alarm;
      }
      this.senderAlarms[sender.id] = made;
    });

    // The provider stopped calling while messages were going out: no request for N periods, right after a busy
    // period. Two alarms without actions, joined by a composite alarm that notifies; a quiet night has no busy
    // period in the look-back, so it pages nobody (docs/alarms.md).
    const silence = settings.webhookSilence;
    if (silence.enabled) {
      const period = Duration.minutes(silence.periodMinutes);
      const quiet = new Alarm(this, 'WebhookSilenceQuiet', {
        alarmDescription: 'Part of WebhookSilence (no actions): no webhook request in the last periods.',
        metric: sum(api.metricCount(), period),
        threshold: silence.threshold,
        comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: silence.evaluationPeriods,
        datapointsToAlarm: datapointsToAlarm(silence),
        treatMissingData: TreatMissingData.BREACHING,
      });
      const busy = new Alarm(this, 'WebhookSilenceBusy', {
        alarmDescription: `Part of WebhookSilence (no actions): at least ${silence.busyRequests} webhook requests in one period of the last ${silence.busyLookbackMinutes} minutes.`,
        metric: sum(api.metricCount(), period),
        threshold: silence.busyRequests,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: Math.max(1, Math.round(silence.busyLookbackMinutes / silence.periodMinutes)),
        datapointsToAlarm: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      const composite = new CompositeAlarm(this, 'WebhookSilence', {
        alarmDescription: describe({
          severity: 'critical',
          meaning: `No webhook request for ${silence.periodMinutes * silence.evaluationPeriods} minutes right after busy sending: the provider stopped calling (or cannot reach the API).`,
          checks: [
            'Provider dashboard: webhook URL, its delivery log and status page.',
            "API Gateway access logs (output ApiAccessLogGroupName) and the API's 4XX/5XX on the dashboard.",
          ],
          anchor: RUNBOOK_ANCHORS.webhookSilence,
        }),
        alarmRule: AlarmRule.allOf(
          AlarmRule.fromAlarm(quiet, AlarmState.ALARM),
          AlarmRule.fromAlarm(busy, AlarmState.ALARM),
        ),
      });
      notify(composite, 'critical');
      this.alarms.webhookSilence = composite;
    }
  }
}

const math = (expression: string, usingMetrics: Record<string, IMetric>, label: string, period: Duration) =>
  new MathExpression({ expression, usingMetrics, label, period });

type AverageOf = (name: SenderMetricName, period: Duration) => IMetric;

/**
 * The alarms fed by the sweeper's figures, over the metrics `avg` reads: the global ones, or one sender's (the same
 * names with its `Sender` dimension). The minimum cohort is in the metric math, so a quiet sender pages nobody.
 */
function sweeperFedSpecs(settings: AlarmSettings, avg: AverageOf): Record<SenderAlarmName, AlarmSpec> {
  return {
    deliveryRate: {
      severity: 'critical',
      meaning: `Fewer than ${settings.deliveryRate.threshold} % of the recently sent messages (the delivery cohort, at least ${settings.deliveryRate.minCohort}) were delivered.`,
      checks: [
        'npm run alerts:check and npm run report -- --since 2h --by campaign: failures by error code, or deliveries missing?',
        "Meta's WhatsApp status page and the provider's dashboard; queue depth on the CloudWatch dashboard.",
      ],
      anchor: RUNBOOK_ANCHORS.deliveryRate,
      metric: (p) =>
        math(
          `IF(FILL(cohort, 0) >= ${settings.deliveryRate.minCohort}, FILL(rate, 100), 100)`,
          { cohort: avg('CohortSent', p), rate: avg('DeliveryRate', p) },
          'delivery rate (judged cohorts)',
          p,
        ),
      comparison: ComparisonOperator.LESS_THAN_THRESHOLD,
      missing: TreatMissingData.NOT_BREACHING,
    },
    undelivered: {
      severity: 'critical',
      meaning: `Over ${settings.undelivered.threshold} % of recent messages have neither a delivery nor a failure status: deliveries are stuck or their webhooks are not arriving.`,
      checks: [
        'npm run alerts:check (undelivered share) and npm run report -- --csv resend (which messages).',
        'API Gateway 4XX/5XX and WebhookAuthFailures on the dashboard: are delivered webhooks refused?',
      ],
      anchor: RUNBOOK_ANCHORS.undelivered,
      metric: (p) =>
        math(
          `IF(FILL(cohort, 0) >= ${settings.undelivered.minCohort}, FILL(share, 0), 0)`,
          { cohort: avg('UndeliveredCohort', p), share: avg('UndeliveredPercent', p) },
          'undelivered % (judged cohorts)',
          p,
        ),
      comparison: ComparisonOperator.GREATER_THAN_THRESHOLD,
      missing: TreatMissingData.NOT_BREACHING,
    },
    readRate: {
      severity: 'warning',
      meaning: `Fewer than ${settings.readRate.threshold} % of delivered messages of the read cohort were read: content, audience or timing.`,
      checks: [
        'npm run report -- --since 2d --by campaign: which campaign reads poorly.',
        'Template quality rating in WhatsApp Manager.',
      ],
      anchor: RUNBOOK_ANCHORS.readRate,
      metric: (p) =>
        math(
          `IF(FILL(cohort, 0) >= ${settings.readRate.minCohort}, FILL(rate, 100), 100)`,
          { cohort: avg('ReadCohortDelivered', p), rate: avg('ReadRate', p) },
          'read rate (judged cohorts)',
          p,
        ),
      comparison: ComparisonOperator.LESS_THAN_THRESHOLD,
      missing: TreatMissingData.NOT_BREACHING,
    },
    deliveryTime: {
      severity: 'warning',
      meaning: `The median time from sent to delivered is above ${settings.deliveryTime.threshold} s: WhatsApp or the provider is slow.`,
      checks: [
        'Latency widget on the dashboard (p50/p90 per status).',
        "Meta's WhatsApp status page; the provider's status page.",
      ],
      anchor: RUNBOOK_ANCHORS.deliveryTime,
      metric: (p) =>
        math(
          `IF(FILL(samples, 0) >= ${settings.deliveryTime.minCohort}, FILL(median, 0), 0)`,
          { samples: avg('DeliveryTimeSamples', p), median: avg('MedianDeliveryTime', p) },
          'median delivery s (judged cohorts)',
          p,
        ),
      comparison: ComparisonOperator.GREATER_THAN_THRESHOLD,
      missing: TreatMissingData.NOT_BREACHING,
    },
  };
}

const upperFirst = (name: string) => name[0]!.toUpperCase() + name.slice(1);
