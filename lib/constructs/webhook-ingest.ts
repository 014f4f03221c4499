import { Duration } from 'aws-cdk-lib';
import { Tracing } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { functionEnvironment, IngestEnv } from '../../lambdas/domain/function-environment';
import type { ArchiveStorage } from './archive-storage';
import { TrackerFunction } from './tracker-function';

export interface WebhookIngestProps {
  readonly queue: IQueue;
  /** The webhook archive's stream (docs/archive.md); unset: nothing is archived. */
  readonly archive?: ArchiveStorage;
  /** Holds META_APP_SECRET, AISENSY_WEBHOOK_SECRET, WEBHOOK_SHARED_TOKEN, WEBHOOK_VERIFY_TOKEN (any of them). */
  readonly webhookSecret: ISecret;
  /** @default true */
  readonly requireWebhookAuth?: boolean;
  readonly maxBodyBytes: number;
  readonly maxStatusesPerWebhook: number;
  /** @default Duration.seconds(6): AiSensy waits 5 s for an answer. */
  readonly timeout?: Duration;
  /** @default 256 */
  readonly memorySize?: number;
  readonly logRetention: RetentionDays;
}

/** The ingest function: may send to its queue, put records to the archive stream and read its secret, nothing else. */
export class WebhookIngest extends Construct {
  public readonly function: TrackerFunction;

  constructor(scope: Construct, id: string, props: WebhookIngestProps) {
    super(scope, id);
    this.function = new TrackerFunction(this, 'Function', {
      entry: 'lambdas/ingest/handler.ts',
      description: 'WhatsApp status webhook: authenticate, parse, normalize, enqueue',
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(6),
      logRetention: props.logRetention,
      tracing: Tracing.ACTIVE,
      environment: functionEnvironment(IngestEnv, {
        QUEUE_URL: props.queue.queueUrl,
        WEBHOOK_SECRET_ID: props.webhookSecret.secretArn,
        REQUIRE_WEBHOOK_AUTH: String(props.requireWebhookAuth ?? true),
        MAX_BODY_BYTES: String(props.maxBodyBytes),
        MAX_STATUSES_PER_WEBHOOK: String(props.maxStatusesPerWebhook),
        ...(props.archive ? { ARCHIVE_STREAM_NAME: props.archive.streamName } : {}),
      }),
    });
    props.queue.grant(this.function, 'sqs:SendMessage');
    props.webhookSecret.grantRead(this.function);
    props.archive?.grantPutRecords(this.function);
  }
}
