import type { SQSEvent } from 'aws-lambda';
import { LocalQueue } from '../../local/local-queue';
import { QueuePoller } from '../../local/queue-poller';

describe('LocalQueue: the SQS semantics the local run relies on', () => {
  it('hides a received message for the visibility timeout, then delivers it again', () => {
    const queue = new LocalQueue({ name: 'q', visibilityTimeoutMs: 1000 });
    queue.send('a');
    const [first] = queue.receive(10, 0);
    expect(queue.receive(10, 999)).toEqual([]);
    const [again] = queue.receive(10, 1000);
    expect(again?.messageId).toBe(first?.messageId);
    expect(again?.attributes.ApproximateReceiveCount).toBe('2');
  });

  it('moves a message to the DLQ on the receive after maxReceiveCount, and redrives it', () => {
    const queue = new LocalQueue({ name: 'q', visibilityTimeoutMs: 1, maxReceiveCount: 3 });
    queue.send('poison');
    for (let t = 0; t < 3; t++) expect(queue.receive(10, t * 10)).toHaveLength(1);
    expect(queue.receive(10, 100)).toEqual([]);
    expect(queue.stats(100)).toEqual({ visible: 0, inFlight: 0, deadLetters: 1 });
    expect(queue.redriveDeadLetters()).toBe(1);
    expect(queue.receive(10, 200).map((r) => r.body)).toEqual(['poison']);
  });

  it('deletes only what was deleted', () => {
    const queue = new LocalQueue({ name: 'q' });
    queue.send('a');
    queue.send('b');
    const [a] = queue.receive(1, 0);
    queue.delete(a?.receiptHandle ?? '');
    expect(queue.receive(10, 0).map((r) => r.body)).toEqual(['b']);
  });
});

describe('QueuePoller: the event source mapping, locally', () => {
  it('deletes processed records, retries reported failures and thrown batches after the visibility timeout', async () => {
    const queue = new LocalQueue({ name: 'q', visibilityTimeoutMs: 30, maxReceiveCount: 10 });
    const seen: string[] = [];
    let throwOnce = true;
    const handler = async (event: SQSEvent) => {
      seen.push(...event.Records.map((r) => r.body));
      if (throwOnce && event.Records.some((r) => r.body === 'c')) {
        throwOnce = false;
        throw new Error('database down');
      }
      return {
        batchItemFailures: event.Records.filter(
          (r) => r.body === 'b' && r.attributes.ApproximateReceiveCount === '1',
        ).map((r) => ({ itemIdentifier: r.messageId })),
      };
    };
    const poller = new QueuePoller(queue, handler, { batchSize: 10, batchingWindowMs: 0, concurrency: 1 });
    poller.start();
    queue.send('a');
    queue.send('b');
    await poller.drained(2000);
    queue.send('c');
    await poller.drained(2000);
    await poller.stop();
    expect(seen.filter((b) => b === 'a')).toHaveLength(1);
    expect(seen.filter((b) => b === 'b')).toHaveLength(2);
    expect(seen.filter((b) => b === 'c')).toHaveLength(2);
    expect(queue.stats()).toEqual({ visible: 0, inFlight: 0, deadLetters: 0 });
  });
});
