import { Duration } from 'aws-cdk-lib';
import { Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Tracing } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import {
  type CohortSettings,
  type FailureSpikeSettings,
  sweeperSettingsEnvironment,
} from '../../lambdas/domain/alert-settings';
import { functionEnvironment, SweeperEnv } from '../../lambdas/domain/function-environment';
import { TrackerFunction } from './tracker-function';

export interface DeliverySweeperProps {
  readonly supabaseSecret: ISecret;
  /** Receives the daily summary. */
  readonly summaryTopic: ITopic;
  /** Receives failure-spike notifications. */
  readonly warningTopic: ITopic;
  /** @default 8 */
  readonly dailySummaryHourUtc?: number;
  /** The sweeper's interval and cohort windows (lambdas/domain/alert-settings.ts). */
  readonly cohorts: CohortSettings;
  readonly failureSpike: FailureSpikeSettings;
  /** Where notifications point for what to do. */
  readonly runbookUrl: string;
  readonly logRetention: RetentionDays;
}

/** The scheduled sweeper: health figures every few minutes, the summary once a day. */
export class DeliverySweeper extends Construct {
  public readonly function: TrackerFunction;
  public readonly healthRule: Rule;
  public readonly summaryRule: Rule;

  constructor(scope: Construct, id: string, props: DeliverySweeperProps) {
    super(scope, id);
    const interval = props.cohorts.sweeperIntervalMinutes;
    this.function = new TrackerFunction(this, 'Function', {
      entry: 'lambdas/sweeper/handler.ts',
      description:
        'Computes delivery health from Supabase and publishes it as metrics; notifies failure spikes; sends the daily summary',
      memorySize: 256,
      timeout: Duration.seconds(60),
      logRetention: props.logRetention,
      tracing: Tracing.ACTIVE,
      environment: {
        ...functionEnvironment(SweeperEnv, {
          SUPABASE_SECRET_ID: props.supabaseSecret.secretArn,
          SUMMARY_TOPIC_ARN: props.summaryTopic.topicArn,
          WARNING_TOPIC_ARN: props.warningTopic.topicArn,
          RUNBOOK_URL: props.runbookUrl,
        }),
        ...sweeperSettingsEnvironment(props.cohorts, props.failureSpike),
      },
    });
    props.supabaseSecret.grantRead(this.function);
    props.summaryTopic.grantPublish(this.function);
    props.warningTopic.grantPublish(this.function);

    this.healthRule = new Rule(this, 'HealthSchedule', {
      description: 'Delivery health figures for the alarms',
      schedule: Schedule.rate(Duration.minutes(interval)),
      targets: [
        new LambdaFunction(this.function, { event: RuleTargetInput.fromObject({ kind: 'health' }), retryAttempts: 0 }),
      ],
    });
    this.summaryRule = new Rule(this, 'DailySummarySchedule', {
      description: "Yesterday's delivery summary to the info topic",
      schedule: Schedule.cron({ minute: '0', hour: String(props.dailySummaryHourUtc ?? 8) }),
      targets: [
        new LambdaFunction(this.function, {
          event: RuleTargetInput.fromObject({ kind: 'daily-summary' }),
          retryAttempts: 2,
        }),
      ],
    });
  }
}
