import {
  BatchEntryIdsNotDistinct,
  BatchRequestTooLong,
  EmptyBatchRequest,
  InvalidBatchEntryId,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  SendMessageCommand,
  SQSClient,
  SQSServiceException,
  TooManyEntriesInBatchRequest,
} from '@aws-sdk/client-sqs';
import * as fc from 'fast-check';
import { packQueueMessages, QueueMessage } from '../../lambdas/domain/queue-message';
import type { StatusUpdate } from '../../lambdas/domain/status-update';
import { LocalQueue } from '../../local/local-queue';
import { type SqsEndpoint, startSqsEndpoint } from '../../local/sqs-endpoint';

/**
 * The loopback SQS endpoint is the oracle of the ingest tests, so it must refuse what SQS refuses: these drive it
 * with the real AWS SDK client and expect the SDK's own exception classes.
 */
describe('loopback SQS endpoint', () => {
  let queue: LocalQueue;
  let endpoint: SqsEndpoint;
  let client: SQSClient;

  beforeEach(async () => {
    queue = new LocalQueue({ name: 'status-updates' });
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

  const batch = (entries: SendMessageBatchRequestEntry[]) =>
    client.send(new SendMessageBatchCommand({ QueueUrl: endpoint.queueUrl, Entries: entries }));
  const entries = (n: number, body = (i: number) => `body ${i}`) =>
    Array.from({ length: n }, (_, i) => ({ Id: String(i), MessageBody: body(i) }));

  it('takes a batch of 10 entries and refuses 11 or none', async () => {
    await expect(batch(entries(10))).resolves.toMatchObject({ Failed: [] });
    await expect(batch(entries(11))).rejects.toBeInstanceOf(TooManyEntriesInBatchRequest);
    await expect(batch([])).rejects.toBeInstanceOf(EmptyBatchRequest);
    expect(queue.stats().visible).toBe(10);
  });

  it('refuses duplicate entry ids and ids SQS does not accept', async () => {
    await expect(
      batch([
        { Id: 'a', MessageBody: 'x' },
        { Id: 'a', MessageBody: 'y' },
      ]),
    ).rejects.toBeInstanceOf(BatchEntryIdsNotDistinct);
    await expect(batch([{ Id: 'a:b', MessageBody: 'x' }])).rejects.toBeInstanceOf(InvalidBatchEntryId);
    await expect(batch([{ Id: 'x'.repeat(81), MessageBody: 'x' }])).rejects.toBeInstanceOf(InvalidBatchEntryId);
    expect(queue.stats().visible).toBe(0);
  });

  it('takes a batch whose bodies total exactly 256 KiB and refuses one byte more', async () => {
    const exact = [
      { Id: 'a', MessageBody: 'x'.repeat(131_072) },
      { Id: 'b', MessageBody: 'é'.repeat(65_536) },
    ];
    await expect(batch(exact)).resolves.toMatchObject({ Failed: [] });
    const over = [
      { Id: 'a', MessageBody: 'x'.repeat(131_073) },
      { Id: 'b', MessageBody: 'é'.repeat(65_536) },
    ];
    await expect(batch(over)).rejects.toBeInstanceOf(BatchRequestTooLong);
    expect(queue.stats().visible).toBe(2);
  });

  it('takes one message of 256 KiB and refuses one byte more', async () => {
    const send = (body: string) =>
      client.send(new SendMessageCommand({ QueueUrl: endpoint.queueUrl, MessageBody: body }));
    await expect(send('x'.repeat(262_144))).resolves.toMatchObject({ MessageId: expect.any(String) });
    const refused = await send('x'.repeat(262_145)).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(SQSServiceException);
    expect((refused as SQSServiceException).name).toBe('InvalidParameterValue');
    expect(queue.stats().visible).toBe(1);
  });

  it.each([
    ['NUL', '\u0000'],
    ['a C0 control', '\u0008'],
    ['vertical tab', '\u000b'],
    ['unit separator', '\u001f'],
    ['U+FFFE', '\ufffe'],
    ['U+FFFF', '\uffff'],
    ['a lone high surrogate (a truncated emoji)', '\ud83d'],
    ['a lone low surrogate', '\ude00'],
  ])("fails an entry holding %s alone, as the sender's fault, and queues its neighbours", async (_name, char) => {
    const result = await batch([
      { Id: 'ok1', MessageBody: 'fine' },
      { Id: 'bad', MessageBody: `status ${char} here` },
      { Id: 'ok2', MessageBody: 'fine too' },
    ]);
    expect(result.Failed).toEqual([
      expect.objectContaining({ Id: 'bad', Code: 'InvalidMessageContents', SenderFault: true }),
    ]);
    expect(result.Successful?.map((s) => s.Id)).toEqual(['ok1', 'ok2']);
    expect(queue.receive(10).map((r) => r.body)).toEqual(['fine', 'fine too']);
  });

  it("accepts every character in SQS's set, at the edges of each range", async () => {
    const body = '\t\n\r \ud7ff\ue000\ufffd\u{10000}\u{1F600}\u{10FFFF}';
    const result = await batch([{ Id: 'a', MessageBody: body }]);
    expect(result.Failed).toEqual([]);
    expect(queue.receive(1)[0]?.body).toBe(body);
  });

  it('fails entries on demand and whole calls with 503', async () => {
    endpoint.failEntries(({ id, attempt }) =>
      id === '1' && attempt === 1 ? { code: 'InternalError', senderFault: false } : undefined,
    );
    const first = await batch(entries(3));
    expect(first.Failed).toEqual([expect.objectContaining({ Id: '1', Code: 'InternalError', SenderFault: false })]);
    const again = await batch([{ Id: '1', MessageBody: 'body 1' }]);
    expect(again.Failed).toEqual([]);

    endpoint.setUnavailable(true, 503);
    const refused = await batch(entries(1)).catch((error: unknown) => error);
    expect((refused as SQSServiceException).$metadata.httpStatusCode).toBe(503);
    endpoint.setUnavailable(false);

    expect(endpoint.calls.map((c) => [c.status, c.queued, c.failed.length])).toEqual([
      [200, 2, 1],
      [200, 1, 0],
      [503, 0, 0],
    ]);
  });

  it('takes every request packQueueMessages makes, whatever characters the statuses hold, and gives them back unchanged', async () => {
    // Strings from the whole of Unicode, lone surrogates and the characters SQS refuses included.
    const tricky = fc.constantFrom(
      '\u0000',
      '\u0007',
      '\u000b',
      '\ufffe',
      '\uffff',
      '\ud83d',
      '\ude00',
      '\u{1F600}',
      '\\',
      '"',
      'é',
    );
    const text = fc
      .array(fc.oneof(tricky, fc.string({ unit: 'binary', maxLength: 3 })), { maxLength: 12 })
      .map((parts) => parts.join(''));
    const update = fc.record({ campaign: text, title: text, conversationId: text }).map(
      ({ campaign, title, conversationId }): StatusUpdate => ({
        message_id: 'wamid.1',
        status: 'failed',
        timestamp: '2024-01-01T10:00:00.000Z',
        campaign,
        error: { code: 131049, title },
        conversation: { id: conversationId },
      }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(update, { minLength: 1, maxLength: 30 }), async (generated) => {
        const updates = generated.map((u, i) => ({ ...u, message_id: `wamid.${i}` }));
        for (const r of queue.receive(10_000)) queue.delete(r.receiptHandle);
        for (const bodies of packQueueMessages(updates, 'req', { maxStatusesPerMessage: 7 })) {
          const result = await batch(bodies.map((body, i) => ({ Id: String(i), MessageBody: body })));
          expect(result.Failed).toEqual([]);
        }
        const received = queue.receive(10_000).flatMap((r) => QueueMessage.parse(JSON.parse(r.body)).statuses);
        expect(received).toEqual(updates);
      }),
      { numRuns: 60 },
    );
  });
});
