import { Duration } from 'aws-cdk-lib';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { Construct } from 'constructs';
import { DeadLetteredQueue } from './dead-lettered-queue';

export interface StatusEventBusProps {
  /** The bus's name: `whatsapp-delivery-tracker-<stage>`, so two stages in one account never share events. */
  readonly eventBusName: string;
  /** At least 6 x the processor's timeout: the processor consumes the retry queue too. */
  readonly visibilityTimeout: Duration;
  /** Receives of a parked event before it moves to the retry queue's dead-letter queue. @default 10 */
  readonly maxReceiveCount?: number;
}

/**
 * The status-change events' bus (docs/events.md) and the event retry queue: events the bus refuses after the
 * processor's retries are parked there (encrypted, TLS only, kept 14 days) and the processor puts them on the bus
 * again; what keeps failing lands in its dead-letter queue (14 days), which the statusEvents alarm watches.
 */
export class StatusEventBus extends Construct {
  public readonly bus: EventBus;
  public readonly retryQueue: DeadLetteredQueue;

  constructor(scope: Construct, id: string, props: StatusEventBusProps) {
    super(scope, id);
    this.bus = new EventBus(this, 'Bus', {
      eventBusName: props.eventBusName,
      description: 'WhatsApp Message Status Changed events of the delivery tracker (docs/events.md)',
    });
    this.retryQueue = new DeadLetteredQueue(this, 'RetryQueue', {
      visibilityTimeout: props.visibilityTimeout,
      maxReceiveCount: props.maxReceiveCount ?? 10,
      retention: Duration.days(14),
      deadLetterRetention: Duration.days(14),
    });
  }
}
