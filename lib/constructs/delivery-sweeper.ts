import { Duration } from 'aws-cdk-lib';
import { Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Tracing } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { TrackerFunction } from './tracker-function';

export interface DeliverySweeperProps {
  readonly supabaseSecret: ISecret;
  /** Receives the daily summary. */
  readonly summaryTopic: ITopic;
  /** @default 5 */
  readonly intervalMinutes?: number;
  /** @default 8 */
  readonly dailySummaryHourUtc?: number;
  /** Cohort windows passed to delivery_health(). */
  readonly windows: {
    deliveryWindowMinutes: number;
    deliveryGraceMinutes: number;
    readWindowHours: number;
    readGraceMinutes: number;
    undeliveredAfterMinutes: number;
  };
  readonly logRetention: RetentionDays;
}

/** The scheduled sweeper: health figures every few minutes, the summary once a day. */
export class DeliverySweeper extends Construct {
  public readonly function: TrackerFunction;
  public readonly healthRule: Rule;
  public readonly summaryRule: Rule;

  constructor(scope: Construct, id: string, props: DeliverySweeperProps) {
    super(scope, id);
    const interval = props.intervalMinutes ?? 5;
    this.function = new TrackerFunction(this, 'Function', {
      entry: 'lambdas/sweeper/handler.ts',
      description: 'Computes delivery health from Supabase and publishes it as metrics; sends the daily summary',
      memorySize: 256,
      timeout: Duration.seconds(60),
      logRetention: props.logRetention,
      tracing: Tracing.ACTIVE,
      environment: {
        SUPABASE_SECRET_ID: props.supabaseSecret.secretArn,
        SUMMARY_TOPIC_ARN: props.summaryTopic.topicArn,
        DELIVERY_WINDOW_MINUTES: String(props.windows.deliveryWindowMinutes),
        DELIVERY_GRACE_MINUTES: String(props.windows.deliveryGraceMinutes),
        READ_WINDOW_HOURS: String(props.windows.readWindowHours),
        READ_GRACE_MINUTES: String(props.windows.readGraceMinutes),
        UNDELIVERED_AFTER_MINUTES: String(props.windows.undeliveredAfterMinutes),
      },
    });
    props.supabaseSecret.grantRead(this.function);
    props.summaryTopic.grantPublish(this.function);

    this.healthRule = new Rule(this, 'HealthSchedule', {
      description: 'Delivery health figures for the alarms',
      schedule: Schedule.rate(Duration.minutes(interval)),
      targets: [new LambdaFunction(this.function, { event: RuleTargetInput.fromObject({ kind: 'health' }), retryAttempts: 0 })],
    });
    this.summaryRule = new Rule(this, 'DailySummarySchedule', {
      description: "Yesterday's delivery summary to the info topic",
      schedule: Schedule.cron({ minute: '0', hour: String(props.dailySummaryHourUtc ?? 8) }),
      targets: [new LambdaFunction(this.function, { event: RuleTargetInput.fromObject({ kind: 'daily-summary' }), retryAttempts: 2 })],
    });
  }
}
