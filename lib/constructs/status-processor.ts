import { Duration } from 'aws-cdk-lib';
import { Tracing } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { functionEnvironment, ProcessorEnv } from '../../lambdas/domain/function-environment';
import type { OutageBackoff } from '../../lambdas/domain/outage-backoff';
import type { StatusEventBus } from './status-event-bus';
import { TrackerFunction } from './tracker-function';

export interface StatusProcessorProps {
  readonly queue: IQueue;
  /** Holds {"SUPABASE_URL", "SUPABASE_SERVICE_ROLE_KEY"}. */
  readonly supabaseSecret: ISecret;
  /** Queue messages per invocation (each holds up to 100 statuses). @default 10 */
  readonly batchSize?: number;
  /** @default Duration.seconds(1) */
  readonly maxBatchingWindow?: Duration;
  /** Invocations at once: bounds the connections a burst opens on Supabase. @default 5 */
  readonly maxConcurrency?: number;
  readonly timeout: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  readonly logRetention: RetentionDays;
  /** The waits between receives while the database is down; checked against the queue's maxReceiveCount by the config. */
  readonly outageBackoff: OutageBackoff;
  /**
   * Status-change events (docs/events.md): the processor writes them to the outbox (the relay puts them on the bus),
   * and puts the event retry queue's parked events (from the release before the outbox) on the bus.
   */
  readonly statusEvents?: { bus: StatusEventBus };
  /** Where critical and warning account or template events (a template disabled, a number flagged) are sent. */
  readonly accountAlertTopics: { critical: ITopic; warning: ITopic };
}

/**
 * The processor function fed by the queue, with partial batch failures; may read only the Supabase secret, consume its
 * queue, delay its messages' next receive while the database is down, and publish account and template events to the
 * critical and warning topics.
 */
export class StatusProcessor extends Construct {
  public readonly function: TrackerFunction;
  public readonly eventSource: SqsEventSource;

  constructor(scope: Construct, id: string, props: StatusProcessorProps) {
    super(scope, id);
    const events = props.statusEvents?.bus;
    this.function = new TrackerFunction(this, 'Function', {
      entry: 'lambdas/processor/handler.ts',
      description: 'Applies batches of WhatsApp status updates to Supabase',
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout,
      logRetention: props.logRetention,
      tracing: Tracing.ACTIVE,
      environment: functionEnvironment(ProcessorEnv, {
        SUPABASE_SECRET_ID: props.supabaseSecret.secretArn,
        QUEUE_URL: props.queue.queueUrl,
        OUTAGE_BACKOFF_BASE_SECONDS: String(props.outageBackoff.baseSeconds),
        OUTAGE_BACKOFF_MAX_SECONDS: String(props.outageBackoff.maxSeconds),
        ...(events
          ? {
              STATUS_EVENT_BUS_NAME: events.bus.eventBusName,
              STATUS_EVENT_RETRY_QUEUE_ARN: events.retryQueue.queue.queueArn,
            }
          : {}),
        CRITICAL_TOPIC_ARN: props.accountAlertTopics.critical.topicArn,
        WARNING_TOPIC_ARN: props.accountAlertTopics.warning.topicArn,
      }),
    });
    props.supabaseSecret.grantRead(this.function);
    props.accountAlertTopics.critical.grantPublish(this.function);
    props.accountAlertTopics.warning.grantPublish(this.function);
    if (events) {
      // events:PutEvents on this bus only, for the parked events; the retry queue's event source grants consuming it.
      // Nothing parks events any more (the relay leaves what the bus refuses in the outbox): no sqs:SendMessage.
      events.bus.grantPutEventsTo(this.function);
      this.function.addEventSource(
        new SqsEventSource(events.retryQueue.queue, {
          batchSize: 10,
          maxBatchingWindow: Duration.seconds(5),
          reportBatchItemFailures: true,
          maxConcurrency: 2,
        }),
      );
    }

    this.eventSource = new SqsEventSource(props.queue, {
      batchSize: props.batchSize ?? 10,
      maxBatchingWindow: props.maxBatchingWindow ?? Duration.seconds(1),
      reportBatchItemFailures: true,
      maxConcurrency: props.maxConcurrency ?? 5,
    });
    // The event source grants the queue's consume actions (grantConsumeMessages), sqs:ChangeMessageVisibility among
    // them: all the outage backoff (ChangeMessageVisibilityBatch) needs. A second grant would only repeat it.
    this.function.addEventSource(this.eventSource);
  }
}
