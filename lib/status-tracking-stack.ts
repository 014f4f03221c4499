import {
  CfnOutput,
  Duration,
  RemovalPolicies,
  RemovalPolicy,
  Stack,
  type StackProps,
  Tags,
  Validations,
} from 'aws-cdk-lib';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { HostedZone } from 'aws-cdk-lib/aws-route53';
import type { Construct } from 'constructs';
import { outageBackoff, queueVisibilityTimeoutSeconds, statusEventBusName, type TrackerConfig } from './config';
import { AlertTopics } from './constructs/alert-topics';
import { ArchiveStorage } from './constructs/archive-storage';
import { DeadLetteredQueue } from './constructs/dead-lettered-queue';
import { DeliveryAlarms } from './constructs/delivery-alarms';
import { DeliveryDashboard } from './constructs/delivery-dashboard';
import { DeliverySweeper } from './constructs/delivery-sweeper';
import { ReportBucket } from './constructs/report-bucket';
import { StatusEventBus } from './constructs/status-event-bus';
import { StatusEventRelay } from './constructs/status-event-relay';
import { StatusProcessor } from './constructs/status-processor';
import { TrackerMetrics } from './constructs/tracker-metrics';
import { WebhookApi, type WebhookApiProps, type WebhookEndpoint } from './constructs/webhook-api';
import { WebhookHttpApi } from './constructs/webhook-http-api';
import { WebhookIngest } from './constructs/webhook-ingest';
import { importSecret } from './secret-reference';

export interface StatusTrackingStackProps extends StackProps {
  readonly config: TrackerConfig;
}

/**
 * API Gateway -> ingest Lambda -> SQS (+ DLQ) -> processor Lambda -> Supabase. Composes the constructs and
 * nothing else: every setting comes from the validated config.
 */
export class StatusTrackingStack extends Stack {
  public readonly webhookApi: WebhookEndpoint;
  public readonly statusQueue: DeadLetteredQueue;
  public readonly ingest: WebhookIngest;
  public readonly processor: StatusProcessor;
  /** The status-change events' bus and retry queue; absent with `statusEvents: false`. */
  public readonly statusEvents?: StatusEventBus;
  /** The relay that drains the status-change outbox onto the bus; absent with `statusEvents: false`. */
  public readonly statusEventRelay?: StatusEventRelay;
  public readonly topics: AlertTopics;
  public readonly sweeper: DeliverySweeper;
  /** Where the daily HTML reports go (`dailyReportLink`). */
  public readonly reportBucket?: ReportBucket;
  public readonly alarms: DeliveryAlarms;
  public readonly dashboard: DeliveryDashboard;
  /** Unset when `archiveEnabled` is false. */
  public readonly archive?: ArchiveStorage;

  constructor(scope: Construct, id: string, props: StatusTrackingStackProps) {
    super(scope, id, props);
    const { config } = props;
    const logRetention = config.logRetentionDays as RetentionDays;
    const processorTimeout = Duration.seconds(config.processorTimeoutSeconds);

    const encryptionKey = config.secretsKmsKeyArn
      ? Key.fromKeyArn(this, 'SecretsKey', config.secretsKmsKeyArn)
      : undefined;
    const supabaseSecret = importSecret(this, 'SupabaseSecret', config.supabaseSecret, {
      configKey: 'supabaseSecret',
      encryptionKey,
    });
    const webhookSecret = importSecret(this, 'WebhookSecret', config.webhookSecret, {
      configKey: 'webhookSecret',
      encryptionKey,
    });

    this.statusQueue = new DeadLetteredQueue(this, 'StatusQueue', {
      visibilityTimeout: Duration.seconds(queueVisibilityTimeoutSeconds(config)),
      maxReceiveCount: config.maxReceiveCount,
      deadLetterRetention: Duration.days(config.dlqRetentionDays),
    });
    if (config.archiveEnabled) {
      this.archive = new ArchiveStorage(this, 'Archive', {
        bufferInterval: Duration.seconds(config.archiveBufferSeconds),
        bufferMb: config.archiveBufferMb,
        transitionAfter: Duration.days(config.archiveTransitionDays),
        storageClass: config.archiveStorageClass,
        expiration: Duration.days(config.archiveExpirationDays),
        logRetention,
        autoDeleteObjects: !config.retainData,
      });
    }
    this.ingest = new WebhookIngest(this, 'Ingest', {
      queue: this.statusQueue.queue,
      archive: this.archive,
      webhookSecret,
      requireWebhookAuth: config.requireWebhookAuth,
      maxBodyBytes: config.maxBodyBytes,
      maxStatusesPerWebhook: config.maxStatusesPerWebhook,
      timeout: Duration.seconds(config.ingestTimeoutSeconds),
      memorySize: config.ingestMemoryMb,
      logRetention,
    });
    if (config.statusEvents) {
      this.statusEvents = new StatusEventBus(this, 'StatusEvents', {
        eventBusName: statusEventBusName(config),
        visibilityTimeout: Duration.seconds(queueVisibilityTimeoutSeconds(config)),
      });
    }
    this.topics = new AlertTopics(this, 'AlertTopics', {
      stage: config.stage,
      emails: { critical: config.criticalAlarmEmails, warning: config.warningAlarmEmails, info: config.summaryEmails },
    });
    this.processor = new StatusProcessor(this, 'Processor', {
      queue: this.statusQueue.queue,
      supabaseSecret,
      batchSize: config.processorBatchSize,
      maxBatchingWindow: Duration.seconds(config.processorBatchingWindowSeconds),
      maxConcurrency: config.processorMaxConcurrency,
      timeout: processorTimeout,
      memorySize: config.processorMemoryMb,
      logRetention,
      outageBackoff: outageBackoff(config),
      statusEvents: this.statusEvents && { bus: this.statusEvents },
      accountAlertTopics: { critical: this.topics.critical, warning: this.topics.warning },
    });
    if (this.statusEvents) {
      this.statusEventRelay = new StatusEventRelay(this, 'StatusEventRelay', {
        bus: this.statusEvents,
        supabaseSecret,
        recipient: config.statusEventRecipient,
        logRetention,
      });
    }
    const apiProps: WebhookApiProps = {
      handler: this.ingest.function,
      rateLimit: config.apiRateLimit,
      burstLimit: config.apiBurstLimit,
      allowedSourceCidrs: config.allowedSourceCidrs,
      logRetention,
      stageName: config.stage,
      customDomain: config.domainName
        ? {
            domainName: config.domainName,
            certificate: Certificate.fromCertificateArn(this, 'DomainCertificate', config.certificateArn!),
            hostedZone:
              config.hostedZoneId && config.hostedZoneName
                ? HostedZone.fromHostedZoneAttributes(this, 'DomainZone', {
                    hostedZoneId: config.hostedZoneId,
                    zoneName: config.hostedZoneName,
                  })
                : undefined,
          }
        : undefined,
    };
    // The same construct id for both: either is "the webhook API" to the outputs, alarms and runbook.
    this.webhookApi =
      config.apiType === 'http'
        ? new WebhookHttpApi(this, 'WebhookApi', apiProps)
        : new WebhookApi(this, 'WebhookApi', apiProps);
    this.reportBucket = config.dailyReportLink
      ? new ReportBucket(this, 'ReportBucket', {
          expirationDays: config.dailyReportRetentionDays,
          autoDeleteObjects: !config.retainData,
        })
      : undefined;
    this.sweeper = new DeliverySweeper(this, 'Sweeper', {
      supabaseSecret,
      summaryTopic: this.topics.info,
      warningTopic: this.topics.warning,
      dailySummaryHourUtc: config.dailySummaryHourUtc,
      cohorts: config,
      failureSpike: config.alarms.failureSpike,
      runbookUrl: config.runbookUrl,
      logRetention,
      stage: config.stage,
      reportBucket: this.reportBucket,
      reportLinkHours: config.dailyReportLinkHours,
      senderHealth: config.senderHealth,
      retentionDays: config.retentionDays,
    });
    // The functions publish under dimension service = the stack's name (TrackerFunction sets it).
    const metrics = new TrackerMetrics(this.stackName);
    this.alarms = new DeliveryAlarms(this, 'Alarms', {
      topics: this.topics,
      settings: config.alarms,
      metrics,
      runbookUrl: config.runbookUrl,
      api: this.webhookApi.api,
      ingest: this.ingest.function,
      processor: this.processor.function,
      sweeper: this.sweeper.function,
      queue: this.statusQueue.queue,
      deadLetterQueue: this.statusQueue.deadLetterQueue,
      archive: this.archive,
      statusEventDeadLetterQueue: this.statusEvents?.retryQueue.deadLetterQueue,
      statusEventRelay: this.statusEventRelay?.function,
      senderHealth: config.senderHealth,
    });
    this.dashboard = new DeliveryDashboard(this, 'Dashboard', {
      metrics,
      api: this.webhookApi.api,
      ingest: this.ingest.function,
      processor: this.processor.function,
      queue: this.statusQueue.queue,
      deadLetterQueue: this.statusQueue.deadLetterQueue,
      alarms: Object.values(this.alarms.alarms),
    });
    acknowledgeDesignDecisions(this);
    tagAndProtect(this, config);

    new CfnOutput(this, 'WebhookUrl', { value: this.webhookApi.webhookUrl, description: 'Paste into AiSensy / Meta' });
    const domainTarget = this.webhookApi.domainTarget;
    if (domainTarget && !config.hostedZoneId) {
      // No zone managed here: the user's own DNS points the name at this (a CNAME).
      new CfnOutput(this, 'DomainTarget', {
        value: domainTarget,
        description: `CNAME target for ${config.domainName}`,
      });
    }
    new CfnOutput(this, 'QueueUrl', { value: this.statusQueue.queue.queueUrl });
    new CfnOutput(this, 'QueueArn', { value: this.statusQueue.queue.queueArn });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: this.statusQueue.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'DeadLetterQueueArn', { value: this.statusQueue.deadLetterQueue.queueArn });
    if (this.archive) {
      new CfnOutput(this, 'ArchiveLocation', {
        value: this.archive.location,
        description: 'Every authenticated webhook as sent: npm run replay -- --source <this>',
      });
      new CfnOutput(this, 'ArchiveStreamName', { value: this.archive.streamName });
    }
    if (this.statusEvents) {
      new CfnOutput(this, 'StatusEventBusName', { value: this.statusEvents.bus.eventBusName });
      new CfnOutput(this, 'StatusEventBusArn', { value: this.statusEvents.bus.eventBusArn });
      new CfnOutput(this, 'StatusEventRelayLogGroupName', {
        value: this.statusEventRelay!.function.logGroup.logGroupName,
      });
      new CfnOutput(this, 'StatusEventRetryQueueUrl', { value: this.statusEvents.retryQueue.queue.queueUrl });
      new CfnOutput(this, 'StatusEventDeadLetterQueueUrl', {
        value: this.statusEvents.retryQueue.deadLetterQueue.queueUrl,
      });
      new CfnOutput(this, 'StatusEventDeadLetterQueueArn', {
        value: this.statusEvents.retryQueue.deadLetterQueue.queueArn,
      });
    }
    new CfnOutput(this, 'IngestFunctionName', { value: this.ingest.function.functionName });
    new CfnOutput(this, 'ProcessorFunctionName', { value: this.processor.function.functionName });
    new CfnOutput(this, 'SweeperFunctionName', { value: this.sweeper.function.functionName });
    new CfnOutput(this, 'CriticalTopicArn', { value: this.topics.critical.topicArn });
    new CfnOutput(this, 'WarningTopicArn', { value: this.topics.warning.topicArn });
    new CfnOutput(this, 'SummaryTopicArn', { value: this.topics.info.topicArn });
    if (this.reportBucket) new CfnOutput(this, 'ReportBucketName', { value: this.reportBucket.bucket.bucketName });
    new CfnOutput(this, 'DashboardName', { value: this.dashboard.dashboard.dashboardName });
    new CfnOutput(this, 'DashboardUrl', {
      value: `https://${this.region}.console.aws.amazon.com/cloudwatch/home?region=${this.region}#dashboards:name=${this.dashboard.dashboard.dashboardName}`,
      description: 'The CloudWatch dashboard in the console',
    });
    // The log groups the runbook's checks name. CloudFormation generates their names (<stack>-<logical id>-<random>):
    // there is no /aws/lambda/<function> group, so the docs read these outputs rather than guess a name.
    new CfnOutput(this, 'IngestLogGroupName', { value: this.ingest.function.logGroup.logGroupName });
    new CfnOutput(this, 'ProcessorLogGroupName', { value: this.processor.function.logGroup.logGroupName });
    new CfnOutput(this, 'SweeperLogGroupName', { value: this.sweeper.function.logGroup.logGroupName });
    new CfnOutput(this, 'ApiAccessLogGroupName', { value: this.webhookApi.accessLogGroup.logGroupName });
  }
}

/** The tag every resource carries to say which project it belongs to. */
export const PROJECT_TAG = 'whatsapp-delivery-tracker';

/**
 * Tags on every taggable resource (`project`, `stage`, then the configured ones, which may not override those two),
 * and what survives a `cdk destroy` or a replacement: with `retainData` (the default for prod) the queues, with
 * what they hold, the log groups and the report bucket stay; otherwise they go with the stack.
 */
function tagAndProtect(stack: StatusTrackingStack, config: TrackerConfig): void {
  for (const [key, value] of Object.entries(config.tags)) Tags.of(stack).add(key, value);
  Tags.of(stack).add('project', PROJECT_TAG);
  Tags.of(stack).add('stage', config.stage);
  RemovalPolicies.of(stack).apply(config.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY, {
    applyToResourceTypes: ['AWS::SQS::Queue', 'AWS::Logs::LogGroup', 'AWS::S3::Bucket'],
  });
}

/** cdk-nag findings that are deliberate, each with its reason. */
function acknowledgeDesignDecisions(stack: StatusTrackingStack): void {
  const api = stack.webhookApi.api;
  Validations.of(api).acknowledge(
    {
      id: 'AwsSolutions-APIG4',
      reason:
        'Providers cannot send IAM or Cognito credentials; the ingest function authenticates every call (HMAC signature or shared token) before anything is queued.',
    },
    {
      id: 'AwsSolutions-COG4',
      reason:
        'No Cognito user pool: callers are WhatsApp providers, authenticated by signature or shared token in the function.',
    },
    {
      id: 'AwsSolutions-APIG2',
      reason:
        'Bodies are validated by zod schemas in the ingest function, which answers 400 with a reason per webhook and per item.',
    },
    {
      id: 'AwsSolutions-APIG3',
      reason:
        'No WAF by default: throttling, the optional source-IP allow-list and signature checks cover the threat; add a WebACL if your account requires one.',
    },
    {
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason:
        'API Gateway needs its account-level CloudWatch role for access logs; this is the AWS-managed policy for it.',
    },
  );
}
