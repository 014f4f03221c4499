import { createHash, randomUUID } from 'node:crypto';
import type { SQSRecord } from 'aws-lambda';
import type { RetryDelay, RetryQueue } from '../lambdas/processor/retry-queue';

/**
 * An in-memory queue with the SQS semantics the pipeline relies on: a received message is invisible for the
 * visibility timeout and comes back unless deleted; a message received more than `maxReceiveCount` times moves
 * to the dead-letter queue. Standard-queue order (roughly first in, first out), at-least-once delivery.
 */
export interface LocalQueueOptions {
  name: string;
  /** @default 30000 */
  visibilityTimeoutMs?: number;
  /** Receives before a message moves to the DLQ. @default 5 */
  maxReceiveCount?: number;
  /** Milliseconds since the epoch; tests pass a simulated clock to play hours of backoff in seconds. @default Date.now */
  now?: () => number;
}

interface StoredMessage {
  messageId: string;
  body: string;
  md5: string;
  sentAt: number;
  receiveCount: number;
  visibleAt: number;
  receiptHandle?: string;
}

export class LocalQueue implements RetryQueue {
  readonly name: string;
  readonly arn: string;
  readonly visibilityTimeoutMs: number;
  readonly maxReceiveCount: number;
  readonly now: () => number;
  private messages: StoredMessage[] = [];
  private readonly dead: StoredMessage[] = [];
  private readonly listeners = new Set<() => void>();

  constructor(options: LocalQueueOptions) {
    this.name = options.name;
    this.arn = `arn:aws:sqs:local:000000000000:${options.name}`;
    this.visibilityTimeoutMs = options.visibilityTimeoutMs ?? 30_000;
    this.maxReceiveCount = options.maxReceiveCount ?? 5;
    this.now = options.now ?? Date.now;
  }

  send(body: string): { messageId: string; md5: string } {
    const message: StoredMessage = {
      messageId: randomUUID(),
      body,
      md5: createHash('md5').update(body, 'utf8').digest('hex'),
      sentAt: this.now(),
      receiveCount: 0,
      visibleAt: 0,
    };
    this.messages.push(message);
    for (const listener of this.listeners) listener();
    return { messageId: message.messageId, md5: message.md5 };
  }

  /** Calls `listener` whenever a message arrives (the poller uses it to wake up). */
  onMessage(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Receives up to `max` visible messages as Lambda SQS records, hiding them for the visibility timeout. */
  receive(max: number, now = this.now()): SQSRecord[] {
    const records: SQSRecord[] = [];
    for (const message of [...this.messages]) {
      if (records.length >= max) break;
      if (message.visibleAt > now) continue;
      if (message.receiveCount >= this.maxReceiveCount) {
        // What SQS's redrive policy does: the next receive after maxReceiveCount moves it to the DLQ instead.
        this.messages = this.messages.filter((m) => m !== message);
        this.dead.push({ ...message, receiptHandle: undefined });
        continue;
      }
      message.receiveCount += 1;
      message.visibleAt = now + this.visibilityTimeoutMs;
      message.receiptHandle = randomUUID();
      records.push(this.toRecord(message));
    }
    return records;
  }

  /** SQS ChangeMessageVisibility: hides each received message for its delay from now (the processor's outage backoff). */
  async delayRetries(delays: readonly RetryDelay[]): Promise<void> {
    const now = this.now();
    for (const delay of delays) {
      const message = this.messages.find((m) => m.receiptHandle === delay.receiptHandle);
      // SQS refuses a stale receipt handle: the message was deleted or received again meanwhile.
      if (!message) throw new Error(`ChangeMessageVisibility: receipt handle of ${delay.messageId} is not valid`);
      message.visibleAt = now + delay.delaySeconds * 1000;
    }
  }

  delete(receiptHandle: string): void {
    this.messages = this.messages.filter((m) => m.receiptHandle !== receiptHandle);
  }

  /** Makes in-flight messages visible again at once (what an expired visibility timeout does), for tests. */
  expireVisibility(): void {
    for (const message of this.messages) message.visibleAt = 0;
  }

  /** Moves every dead-lettered message back to the queue with a fresh receive count (an SQS redrive). */
  redriveDeadLetters(): number {
    const count = this.dead.length;
    for (const message of this.dead.splice(0)) this.messages.push({ ...message, receiveCount: 0, visibleAt: 0 });
    for (const listener of this.listeners) listener();
    return count;
  }

  /** Every body still held, in the queue and in the DLQ (what a shutdown must keep: local/queue-spool.ts). */
  contents(): { queued: string[]; deadLetters: string[] } {
    return { queued: this.messages.map((m) => m.body), deadLetters: this.dead.map((m) => m.body) };
  }

  /** Puts a body straight into the DLQ (restoring a spool: dead letters stay dead until a redrive). */
  addDeadLetter(body: string): void {
    this.dead.push({
      messageId: randomUUID(),
      body,
      md5: createHash('md5').update(body, 'utf8').digest('hex'),
      sentAt: this.now(),
      receiveCount: 0,
      visibleAt: 0,
    });
  }

  nextVisibleAt(): number | undefined {
    return this.messages.reduce<number | undefined>(
      (min, m) => (min === undefined || m.visibleAt < min ? m.visibleAt : min),
      undefined,
    );
  }

  stats(now = this.now()): { visible: number; inFlight: number; deadLetters: number } {
    const visible = this.messages.filter((m) => m.visibleAt <= now).length;
    return { visible, inFlight: this.messages.length - visible, deadLetters: this.dead.length };
  }

  private toRecord(message: StoredMessage): SQSRecord {
    return {
      messageId: message.messageId,
      receiptHandle: message.receiptHandle ?? '',
      body: message.body,
      attributes: {
        ApproximateReceiveCount: String(message.receiveCount),
        SentTimestamp: String(message.sentAt),
        SenderId: 'local',
        ApproximateFirstReceiveTimestamp: String(this.now()),
      },
      messageAttributes: {},
      md5OfBody: message.md5,
      eventSource: 'aws:sqs',
      eventSourceARN: this.arn,
      awsRegion: 'local',
    };
  }
}
