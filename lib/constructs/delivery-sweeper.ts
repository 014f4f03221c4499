import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Tracing } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { CfnBucket } from 'aws-cdk-lib/aws-s3';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import {
  type CohortSettings,
  type FailureSpikeSettings,
  sweeperSettingsEnvironment,
} from '../../lambdas/domain/alert-settings';
import { functionEnvironment, SweeperEnv } from '../../lambdas/domain/function-environment';
import { type SenderHealthSettings, senderHealthEnvironment } from '../../lambdas/domain/sender-health';
import type { ReportBucket } from './report-bucket';
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
  /** The stage, in the report's key. */
  readonly stage: string;
  /** Where the daily HTML report goes, shared as a presigned link in the summary; unset: no link. */
  readonly reportBucket?: ReportBucket;
  /** The link's lifetime (X-Amz-Expires), 1 to 168 hours. @default 12 */
  readonly reportLinkHours?: number;
  /** Senders whose health is published per sender (lambdas/domain/sender-health.ts). @default none */
  readonly senderHealth?: SenderHealthSettings;
  /** Days the message rows are kept; the sweeper deletes older ones (docs/retention.md). @default kept forever */
  readonly retentionDays?: number;
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
        'Computes delivery health from Supabase and publishes it as metrics; notifies failure spikes; deletes expired messages; sends the daily summary',
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
          STAGE: props.stage,
          ...(props.reportBucket
            ? {
                REPORT_BUCKET_NAME: props.reportBucket.bucket.bucketName,
                REPORT_LINK_HOURS: String(props.reportLinkHours ?? 12),
              }
            : {}),
          ...(props.senderHealth?.length ? { SENDER_HEALTH: senderHealthEnvironment(props.senderHealth) } : {}),
          ...(props.retentionDays === undefined ? {} : { RETENTION_DAYS: String(props.retentionDays) }),
        }),
        ...sweeperSettingsEnvironment(props.cohorts, props.failureSpike),
      },
    });
    props.supabaseSecret.grantRead(this.function);
    props.summaryTopic.grantPublish(this.function);
    props.warningTopic.grantPublish(this.function);
    if (props.reportBucket) {
      props.reportBucket.grantReportWriteAndShare(this.function);
      Validations.of(this.function).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(props.reportBucket.bucket.node.defaultChild as CfnBucket)}.Arn>/reports/*]`,
        reason:
          'One object per day under reports/<stage>/: the sweeper writes it and signs a read link for it; nothing else in the bucket or the account.',
      });
    }

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
