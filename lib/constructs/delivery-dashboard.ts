import { Duration } from 'aws-cdk-lib';
import {
  AlarmStatusWidget,
  Dashboard,
  GraphWidget,
  type IAlarm,
  MathExpression,
  SingleValueWidget,
  TextWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { STAGES } from '../../lambdas/domain/status-update';
import type { TrackerMetrics } from './tracker-metrics';
import type { WebhookApiMetrics } from './webhook-api';

export interface DeliveryDashboardProps {
  readonly metrics: TrackerMetrics;
  readonly api: WebhookApiMetrics;
  readonly ingest: IFunction;
  readonly processor: IFunction;
  readonly queue: IQueue;
  readonly deadLetterQueue: IQueue;
  readonly alarms: IAlarm[];
}

/** One page to look at: rates, latency, throughput by status, errors, queue depth and the alarms' states. */
export class DeliveryDashboard extends Construct {
  public readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: DeliveryDashboardProps) {
    super(scope, id);
    const { api, ingest, processor, queue, deadLetterQueue } = props;
    const trackerMetric: TrackerMetrics['metric'] = (name, options) => props.metrics.metric(name, options);
    const fiveMinutes = Duration.minutes(5);

    this.dashboard = new Dashboard(this, 'Dashboard', { defaultInterval: Duration.hours(24) });
    this.dashboard.addWidgets(
      new TextWidget({
        markdown:
          '## WhatsApp delivery\nRates come from the sweeper (cohorts: docs/alarms.md); throughput and latency from the processor. What to do for each alarm: docs/runbook.md.',
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      new SingleValueWidget({
        title: 'Now',
        metrics: [
          trackerMetric('DeliveryRate', { statistic: 'Average', label: 'delivery rate %' }),
          trackerMetric('ReadRate', { statistic: 'Average', label: 'read rate %' }),
          trackerMetric('AvgDeliveryTime', { statistic: 'Average', label: 'avg delivery s' }),
          trackerMetric('UndeliveredPercent', { statistic: 'Average', label: 'recent undelivered %' }),
          trackerMetric('FailureRate', { statistic: 'Average', label: 'failure rate %' }),
        ],
        width: 24,
        height: 3,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Delivery and read rate (%)',
        left: [
          trackerMetric('DeliveryRate', { statistic: 'Average' }),
          trackerMetric('ReadRate', { statistic: 'Average' }),
        ],
        leftYAxis: { min: 0, max: 100 },
        width: 12,
      }),
      new GraphWidget({
        title: 'Latency (s): sent -> delivered, delivered -> read',
        left: [
          trackerMetric('DeliveryLatency', { statistic: 'p50', label: 'delivery p50' }),
          trackerMetric('DeliveryLatency', { statistic: 'p90', label: 'delivery p90' }),
          trackerMetric('MedianDeliveryTime', { statistic: 'Average', label: 'delivery median (cohort)' }),
        ],
        right: [trackerMetric('ReadLatency', { statistic: 'p50', label: 'read delay p50' })],
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Statuses applied, by status',
        left: STAGES.map((stage) =>
          trackerMetric('StatusesApplied', {
            statistic: 'Sum',
            dimensions: { Status: stage },
            label: stage,
            period: fiveMinutes,
          }),
        ),
        stacked: true,
        width: 12,
      }),
      new GraphWidget({
        title: 'Errors',
        left: [
          api.metricServerError({ statistic: 'Sum', label: 'API 5xx', period: fiveMinutes }),
          api.metricClientError({ statistic: 'Sum', label: 'API 4xx', period: fiveMinutes }),
          ingest.metricErrors({ statistic: 'Sum', label: 'ingest errors', period: fiveMinutes }),
          processor.metricErrors({ statistic: 'Sum', label: 'processor errors', period: fiveMinutes }),
          trackerMetric('PoisonRecords', { statistic: 'Sum', label: 'poison records' }),
          trackerMetric('ItemsRejected', { statistic: 'Sum', label: 'rejected items' }),
          trackerMetric('WebhookAuthFailures', { statistic: 'Sum', label: 'auth failures' }),
        ],
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Queue',
        left: [
          queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', label: 'queued' }),
          deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', label: 'dead letters' }),
        ],
        right: [queue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', label: 'oldest (s)' })],
        width: 12,
      }),
      new GraphWidget({
        title: 'Throughput and database',
        left: [
          api.metricCount({ statistic: 'Sum', label: 'webhooks', period: fiveMinutes }),
          trackerMetric('StatusesAccepted', { statistic: 'Sum', label: 'statuses accepted' }),
          new MathExpression({
            expression: 'received / 300',
            usingMetrics: { received: trackerMetric('StatusesReceived', { statistic: 'Sum' }) },
            label: 'statuses stored per second',
            period: fiveMinutes,
          }),
        ],
        right: [
          trackerMetric('DatabaseCallDuration', { statistic: 'p50', label: 'db call p50 (ms)' }),
          trackerMetric('DatabaseCallDuration', { statistic: 'p99', label: 'db call p99 (ms)' }),
        ],
        width: 12,
      }),
    );
    this.dashboard.addWidgets(new AlarmStatusWidget({ title: 'Alarms', alarms: props.alarms, width: 24 }));
  }
}
