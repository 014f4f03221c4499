import { SQSClient } from '@aws-sdk/client-sqs';
import { SqsRetryQueue } from '../../lambdas/processor/retry-queue';
import { LocalQueue } from '../../local/local-queue';
import { type SqsEndpoint, startSqsEndpoint } from '../../local/sqs-endpoint';

/** The processor's SQS adapter for the outage backoff, through the real SDK against the loopback SQS endpoint. */
describe('SqsRetryQueue (ChangeMessageVisibilityBatch)', () => {
  let now = 1_000_000;
  let queue: LocalQueue;
  let endpoint: SqsEndpoint;
  let client: SQSClient;

  beforeEach(async () => {
    now = 1_000_000;
    queue = new LocalQueue({ name: 'status-updates', visibilityTimeoutMs: 180_000, now: () => now });
    endpoint = await startSqsEndpoint(queue);
    client = new SQSClient({
      endpoint: endpoint.endpoint,
      region: 'local',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      maxAttempts: 1,
    });
  });
  afterEach(async () => {
    client.destroy();
    await endpoint.close();
  });

  it('hides every message for its own delay, 10 entries per call', async () => {
    for (let i = 0; i < 12; i++) queue.send(`m${i}`);
    const records = queue.receive(12);
    await new SqsRetryQueue(client, endpoint.queueUrl).delayRetries(
      records.map((r, i) => ({
        messageId: r.messageId,
        receiptHandle: r.receiptHandle,
        delaySeconds: i < 6 ? 360 : 3_600,
      })),
    );

    expect(endpoint.calls.filter((c) => c.target === 'ChangeMessageVisibilityBatch').map((c) => c.entries)).toEqual([
      10, 2,
    ]);
    now += 359_000;
    expect(queue.receive(12)).toHaveLength(0);
    now += 1_000;
    const early = queue.receive(12);
    expect(early.map((r) => r.body)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
    for (const r of early) queue.delete(r.receiptHandle);
    now += 3_240_000;
    expect(queue.receive(12).map((r) => r.body)).toEqual(['m6', 'm7', 'm8', 'm9', 'm10', 'm11']);
  });

  it('rejects naming the messages SQS reports in Failed (a stale receipt handle)', async () => {
    queue.send('kept');
    queue.send('gone');
    const [kept, gone] = queue.receive(2);
    queue.delete(gone!.receiptHandle);
    const retries = new SqsRetryQueue(client, endpoint.queueUrl);
    await expect(
      retries.delayRetries([
        { messageId: kept!.messageId, receiptHandle: kept!.receiptHandle, delaySeconds: 720 },
        { messageId: gone!.messageId, receiptHandle: gone!.receiptHandle, delaySeconds: 720 },
      ]),
    ).rejects.toThrow(
      `ChangeMessageVisibilityBatch failed for 1 of 2 messages (${gone!.messageId}: ReceiptHandleIsInvalid)`,
    );
  });
});
