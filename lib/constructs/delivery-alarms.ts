import { Duration } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import {
  Alarm,
  ComparisonOperator,
  MathExpression,
  TreatMissingData,
  type IMetric,
  type Metric,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { AlarmName, AlarmsConfig } from '../config';
import type { AlertTopics, Severity } from './alert-topics';
import { trackerMetric } from './tracker-metrics';

export interface DeliveryAlarmsProps {
  readonly topics: AlertTopics;
  readonly settings: AlarmsConfig;
  readonly api: RestApi;
  readonly ingest: IFunction;
  readonly processor: IFunction;
  readonly sweeper: IFunction;
  readonly queue: IQueue;
  readonly deadLetterQueue: IQueue;
}

interface AlarmSpec {
  severity: Exclude<Severity, 'info'>;
  description: string;
  metric: (period: Duration) => IMetric;
  comparison: ComparisonOperator;
  /**
   * Missing data is decided per alarm: figures that only exist when there is traffic treat it as fine (no messages
   * at night must not page anyone); signs of life (sweeper runs, webhook requests) treat it as breaching.
   */
  missing: TreatMissingData;
}

/**
 * Every alert of the original design as a CloudWatch alarm, plus the operational ones. Each notifies its
 * severity's topic on ALARM and on OK.
 */
export class DeliveryAlarms extends Construct {
  public readonly alarms: Partial<Record<AlarmName, Alarm>> = {};

  constructor(scope: Construct, id: string, props: DeliveryAlarmsProps) {
    super(scope, id);
    const { api, ingest, processor, sweeper, queue, deadLetterQueue } = props;
    const sum = (metric: Metric, period: Duration) => metric.with({ statistic: 'Sum', period });

    const specs: Record<AlarmName, AlarmSpec> = {
      deliveryRate: {
        severity: 'critical',
        description: 'Delivery rate of the last hour\'s cohort is below the threshold (%).',
        metric: (period) => trackerMetric('DeliveryRate', { statistic: 'Minimum', period }),
        comparison: ComparisonOperator.LESS_THAN_THRESHOLD,
        missing: TreatMissingData.NOT_BREACHING,
      },
      undelivered: {
        severity: 'critical',
        description: 'More messages than the threshold were sent but not delivered (nor failed) for over 10 minutes.',
        metric: (period) => trackerMetric('UndeliveredMessages', { statistic: 'Maximum', period }),
        comparison: ComparisonOperator.GREATER_THAN_THRESHOLD,
        missing: TreatMissingData.NOT_BREACHING,
      },
      databaseErrors: {
        severity: 'critical',
        description: 'Processor invocations failed (database errors): their batches return to the queue.',
        metric: (period) => sum(processor.metricErrors(), period),
        comparison: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        missing: TreatMissingData.NOT_BREACHING,
      },
      deadLetters: {
        severity: 'critical',
        description: 'Messages are in the dead-letter queue: statuses not stored. Fix the cause, then redrive.',
        metric: (period) => deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period }),
        comparison: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        missing: TreatMissingData.NOT_BREACHING,
      },
      webhookErrors: {
        severity: 'critical',
        description: 'The webhook endpoint answered 5xx or the ingest function failed (API 5XXError + ingest Errors).',
        metric: (period) =>
          new MathExpression({
            expression: 'FILL(api5xx, 0) + FILL(ingestErrors, 0)',
            usingMetrics: {
              api5xx: sum(api.metricServerError(), period),
              ingestErrors: sum(ingest.metricErrors(), period),
            },
            label: 'webhook errors',
            period,
          }),
        comparison: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        missing: TreatMissingData.NOT_BREACHING,
      },
      sweeperNotRunning: {
        severity: 'critical',
        description: 'The sweeper has not reported: the delivery, undelivered and read alarms are blind.',
        metric: (period) => trackerMetric('SweeperRuns', { statistic: 'SampleCount', period }),
        comparison: ComparisonOperator.LESS_THAN_THRESHOLD,
        missing: TreatMissingData.BREACHING,
      },
      readRate: {
        severity: 'warning',
        description: 'Read rate (read / delivered) of the last 24 hours\' cohort is below the threshold (%).',
        metric: (period) => trackerMetric('ReadRate', { statistic: 'Minimum', period }),
        comparison: ComparisonOperator.LESS_THAN_THRESHOLD,
        missing: TreatMissingData.NOT_BREACHING,
      },
      deliveryTime: {
        severity: 'warning',
        description: 'Average delivery time (reported sent to reported delivered) is above the threshold (s).',
        metric: (period) => trackerMetric('AvgDeliveryTime', { statistic: 'Maximum', period }),
        comparison: ComparisonOperator.GREATER_THAN_THRESHOLD,
        missing: TreatMissingData.NOT_BREACHING,
      },
      slowDatabase: {
        severity: 'warning',
        description: 'Database calls are slow: p99 of apply_status_updates above the threshold (ms).',
        metric: (period) => trackerMetric('DatabaseCallDuration', { statistic: 'p99', period }),
        comparison: ComparisonOperator.GREATER_THAN_THRESHOLD,
        missing: TreatMissingData.NOT_BREACHING,
      },
      queueAge: {
        severity: 'warning',
        description: 'The oldest queued status waits longer than the threshold (s): the processor is behind or failing.',
        metric: (period) => queue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period }),
        comparison: ComparisonOperator.GREATER_THAN_THRESHOLD,
        missing: TreatMissingData.NOT_BREACHING,
      },
      throttles: {
        severity: 'warning',
        description: 'Lambda throttled invocations (ingest, processor or sweeper): raise the concurrency quota.',
        metric: (period) =>
          new MathExpression({
            expression: 'FILL(i, 0) + FILL(p, 0) + FILL(s, 0)',
            usingMetrics: {
              i: sum(ingest.metricThrottles(), period),
              p: sum(processor.metricThrottles(), period),
              s: sum(sweeper.metricThrottles(), period),
            },
            label: 'throttles',
            period,
          }),
        comparison: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        missing: TreatMissingData.NOT_BREACHING,
      },
      webhookSilence: {
        severity: 'warning',
        description: 'No webhook request at all for the whole window: the provider stopped calling (or cannot reach us).',
        metric: (period) => sum(api.metricCount(), period),
        comparison: ComparisonOperator.LESS_THAN_THRESHOLD,
        missing: TreatMissingData.BREACHING,
      },
    };

    for (const [name, spec] of Object.entries(specs) as [AlarmName, AlarmSpec][]) {
      const settings = props.settings[name];
      if (!settings.enabled) continue;
      const alarm = new Alarm(this, name[0]!.toUpperCase() + name.slice(1), {
        alarmDescription: `[${spec.severity}] ${spec.description} See README "Alarms".`,
        metric: spec.metric(Duration.minutes(settings.periodMinutes)),
        threshold: settings.threshold,
        comparisonOperator: spec.comparison,
        evaluationPeriods: settings.evaluationPeriods,
        datapointsToAlarm: settings.evaluationPeriods,
        treatMissingData: spec.missing,
      });
      const action = new SnsAction(props.topics[spec.severity]);
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
      this.alarms[name] = alarm;
    }
  }
}
