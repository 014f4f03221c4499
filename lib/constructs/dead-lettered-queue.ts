import { Duration } from 'aws-cdk-lib';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface DeadLetteredQueueProps {
  /** At least 6 x the processor's timeout, as AWS recommends for Lambda event sources. */
  readonly visibilityTimeout: Duration;
  /** Receives before a message moves to the dead-letter queue. @default 5 */
  readonly maxReceiveCount?: number;
  /** @default Duration.days(14) */
  readonly deadLetterRetention?: Duration;
  /** @default Duration.days(4) */
  readonly retention?: Duration;
}

/**
 * A queue and its dead-letter queue: encrypted at rest (SSE-SQS), TLS-only access. The stack's status queue is one
 * (construct id `StatusQueue`, kept so logical ids do not change). Not named StatusQueue: that is the ingest's port
 * (lambdas/ingest/status-queue.ts).
 */
export class DeadLetteredQueue extends Construct {
  public readonly queue: Queue;
  public readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: DeadLetteredQueueProps) {
    super(scope, id);
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: props.deadLetterRetention ?? Duration.days(14),
    });
    this.queue = new Queue(this, 'Queue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: props.visibilityTimeout,
      retentionPeriod: props.retention ?? Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount ?? 5 },
    });
  }
}
