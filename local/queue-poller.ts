import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { LocalQueue } from './local-queue';

/**
 * What Lambda's SQS event source mapping does, locally: receive batches, invoke the processor handler, delete
 * what it processed, leave failures (batchItemFailures, or all of them if it threw) to reappear after the
 * visibility timeout. `concurrency` pollers run at once, like concurrent Lambda invocations.
 */
export interface PollerOptions {
  /** @default 10 */
  batchSize?: number;
  /** How long to gather a batch once the first message is there. @default 20 */
  batchingWindowMs?: number;
  /** @default 2 */
  concurrency?: number;
  onError?: (error: unknown) => void;
}

export type BatchHandler = (event: SQSEvent) => Promise<SQSBatchResponse | undefined>;

export class QueuePoller {
  private running = false;
  private readonly workers: Promise<void>[] = [];
  private readonly wakers = new Set<() => void>();
  private inFlight = 0;

  constructor(
    private readonly queue: LocalQueue,
    private readonly handler: BatchHandler,
    private readonly options: PollerOptions = {},
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.queue.onMessage(() => this.wakeAll());
    for (let i = 0; i < (this.options.concurrency ?? 2); i++) this.workers.push(this.work());
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wakeAll();
    await Promise.all(this.workers.splice(0));
  }

  /** Makes every idle worker look at the queue now (after a simulated clock moved, for instance). */
  wake(): void {
    this.wakeAll();
  }

  /**
   * Resolves when no message is visible and no batch is being handled (messages waiting out a backoff may remain),
   * or rejects after `timeoutMs` of real time.
   */
  async settled(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.queue.stats().visible === 0 && this.inFlight === 0) return;
      if (Date.now() > deadline) throw new Error(`queue not settled: ${this.queue.stats().visible} visible`);
      await sleep(10);
    }
  }

  /** Resolves when nothing is visible or in flight, or rejects after `timeoutMs`. */
  async drained(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { visible, inFlight } = this.queue.stats();
      if (visible === 0 && inFlight === 0 && this.inFlight === 0) return;
      if (Date.now() > deadline) throw new Error(`queue not drained: ${visible} visible, ${inFlight} in flight`);
      await sleep(10);
    }
  }

  private async work(): Promise<void> {
    while (this.running) {
      const records = this.queue.receive(this.options.batchSize ?? 10);
      if (records.length === 0) {
        await this.idle();
        continue;
      }
      // Counted from the receive on, so that settled() never sees a received batch as neither visible nor handled.
      this.inFlight++;
      try {
        if (records.length < (this.options.batchSize ?? 10) && (this.options.batchingWindowMs ?? 20) > 0) {
          await sleep(this.options.batchingWindowMs ?? 20);
          records.push(...this.queue.receive((this.options.batchSize ?? 10) - records.length));
        }
        const response = await this.handler({ Records: records });
        const failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
        for (const record of records) if (!failed.has(record.messageId)) this.queue.delete(record.receiptHandle);
      } catch (error) {
        // The invocation failed: every message stays and comes back after its visibility timeout.
        this.options.onError?.(error);
      } finally {
        this.inFlight--;
      }
    }
  }

  private wakeAll(): void {
    for (const wake of [...this.wakers]) wake();
  }

  private idle(): Promise<void> {
    const next = this.queue.nextVisibleAt();
    const wait = next === undefined ? 1_000 : Math.min(1_000, Math.max(5, next - this.queue.now()));
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, wait);
      this.wakers.add(done);
    });
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
