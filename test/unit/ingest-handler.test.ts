import { Logger } from '@aws-lambda-powertools/logger';
import { SQSClient } from '@aws-sdk/client-sqs';
import { QueueMessage } from '../../lambdas/domain/queue-message';
import { NO_CREDENTIALS } from '../../lambdas/domain/webhook-auth';
import { createIngestHandler } from '../../lambdas/ingest/ingest-webhook';
import { SqsStatusQueue } from '../../lambdas/ingest/status-queue';
import { LocalQueue } from '../../local/local-queue';
import { type SqsEndpoint, startSqsEndpoint } from '../../local/sqs-endpoint';
import { webhookEvent } from '../../testkit/events';
import { aisensyWebhook, flatWebhook, metaStatus, metaWebhook } from '../../testkit/webhooks';
import { quietMetrics } from '../support/powertools';

/** The real SDK client and SqsStatusQueue, talking SQS's JSON protocol to a loopback endpoint. */
describe('ingest handler', () => {
  let queue: LocalQueue;
  let endpoint: SqsEndpoint;
  let client: SQSClient;
  let ingest: ReturnType<typeof createIngestHandler>;

  beforeEach(async () => {
    queue = new LocalQueue({ name: 'status-updates' });
    endpoint = await startSqsEndpoint(queue);
    client = new SQSClient({
      endpoint: endpoint.endpoint,
      region: 'local',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      maxAttempts: 1,
    });
    ingest = createIngestHandler({
      queue: new SqsStatusQueue(client, endpoint.queueUrl),
      logger: new Logger({ logLevel: 'SILENT' }),
      metrics: quietMetrics(),
      maxBodyBytes: 1_048_576,
      credentials: () => NO_CREDENTIALS,
      requireAuth: false,
    });
  });
  afterEach(async () => {
    client.destroy();
    await endpoint.close();
  });

  const queuedStatuses = () =>
    queue.receive(1000).flatMap((record) => QueueMessage.parse(JSON.parse(record.body)).statuses);

  it('queues the statuses of a Meta webhook and answers 200 with the count', async () => {
    const response = await ingest(
      webhookEvent(metaWebhook([metaStatus({ id: 'wamid.1' }), metaStatus({ id: 'wamid.2', status: 'read' })])),
    );
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ accepted: 2, rejected: [] });
    expect(queuedStatuses().map((s) => [s.message_id, s.status])).toEqual([
      ['wamid.1', 'delivered'],
      ['wamid.2', 'read'],
    ]);
  });

  it('queues all 1,000 statuses of a full Meta batch in packed messages', async () => {
    const statuses = Array.from({ length: 1000 }, (_, i) => metaStatus({ id: `wamid.${i}` }));
    const response = await ingest(webhookEvent(metaWebhook(statuses)));
    expect(JSON.parse(response.body)).toMatchObject({ accepted: 1000 });
    const queued = queuedStatuses();
    expect(queued).toHaveLength(1000);
    expect(new Set(queued.map((s) => s.message_id)).size).toBe(1000);
    expect(queue.stats().inFlight).toBeLessThanOrEqual(20);
  });

  it('answers 200 and lists rejected items while queuing the valid ones', async () => {
    const response = await ingest(
      webhookEvent(
        flatWebhook([
          { id: 'wamid.ok', status: 'sent', timestamp: '1704103200' },
          { id: 'wamid.x', status: 'exploded', timestamp: '1' },
        ]),
      ),
    );
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toEqual({
      accepted: 1,
      rejected: [{ index: 1, reason: 'unknown status "exploded"' }],
    });
    expect(queuedStatuses()).toHaveLength(1);
  });

  it('acknowledges an AiSensy topic without statuses with 200 and queues nothing', async () => {
    const response = await ingest(webhookEvent(aisensyWebhook(undefined, { topic: 'contact.created' })));
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({
      accepted: 0,
      ignored: expect.stringMatching(/contact\.created/),
    });
    expect(queue.stats().visible).toBe(0);
  });

  it.each([
    ['not JSON', 'this is not json', /not valid JSON/],
    ['an unknown envelope', { hello: 'world' }, /unknown envelope/],
    ['an empty body', '', /empty/],
  ])('answers 400 with a reason for %s, queuing nothing', async (_name, body, reason) => {
    const response = await ingest(webhookEvent(body));
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body).error).toMatch(reason);
    expect(queue.stats().visible).toBe(0);
  });

  it('answers 413 for a body over the limit before parsing it', async () => {
    const small = createIngestHandler({
      queue: new SqsStatusQueue(client, endpoint.queueUrl),
      logger: new Logger({ logLevel: 'SILENT' }),
      metrics: quietMetrics(),
      maxBodyBytes: 100,
      credentials: () => NO_CREDENTIALS,
      requireAuth: false,
    });
    const response = await small(
      webhookEvent(
        flatWebhook(Array.from({ length: 10 }, () => ({ id: 'w', status: 'sent', timestamp: '1704103200' }))),
      ),
    );
    expect(response.statusCode).toBe(413);
    expect(queue.stats().visible).toBe(0);
  });

  describe('a base64 body (API Gateway sends binary media types encoded)', () => {
    const body = JSON.stringify(flatWebhook([{ id: 'wamid.b64', status: 'sent', timestamp: '1704103200' }]));
    const decodedBytes = Buffer.byteLength(body);
    const base64 = Buffer.from(body).toString('base64');
    const limited = (maxBodyBytes: number) =>
      createIngestHandler({
        queue: new SqsStatusQueue(client, endpoint.queueUrl),
        logger: new Logger({ logLevel: 'SILENT' }),
        metrics: quietMetrics(),
        maxBodyBytes,
        credentials: () => NO_CREDENTIALS,
        requireAuth: false,
      });

    it('is refused with 413 when its decoded size is one byte over the limit, queuing nothing', async () => {
      const response = await limited(decodedBytes - 1)(webhookEvent(base64, { isBase64Encoded: true }));
      expect(response.statusCode).toBe(413);
      expect(JSON.parse(response.body).error).toBe(`body is ${decodedBytes} bytes; the limit is ${decodedBytes - 1}`);
      expect(queue.stats().visible).toBe(0);
    });

    it('is accepted at exactly the limit, though its encoded form is a third longer', async () => {
      expect(base64.length).toBeGreaterThan(decodedBytes);
      const response = await limited(decodedBytes)(webhookEvent(base64, { isBase64Encoded: true }));
      expect(response.statusCode).toBe(200);
      expect(queuedStatuses().map((s) => s.message_id)).toEqual(['wamid.b64']);
    });
  });

  it('decodes a base64 body when API Gateway says so', async () => {
    const body = Buffer.from(
      JSON.stringify(flatWebhook([{ id: 'wamid.b64', status: 'sent', timestamp: '1704103200' }])),
    ).toString('base64');
    const response = await ingest(webhookEvent(body, { isBase64Encoded: true }));
    expect(JSON.parse(response.body)).toMatchObject({ accepted: 1 });
    expect(queuedStatuses()[0]?.message_id).toBe('wamid.b64');
  });

  it('answers 503 when the queue is unavailable, so the provider retries, and never leaks internals', async () => {
    endpoint.setUnavailable(true);
    const response = await ingest(
      webhookEvent(flatWebhook([{ id: 'wamid.1', status: 'sent', timestamp: '1704103200' }])),
    );
    expect(response.statusCode).toBe(503);
    expect(response.body).not.toMatch(/127\.0\.0\.1|stack|Error:/);
    endpoint.setUnavailable(false);
    expect(queue.stats().visible).toBe(0);
  });

  describe('when SQS reports entries in Failed', () => {
    // 1,000 small statuses pack into 10 messages of 100, sent as one SendMessageBatch of 10 entries (~150 KB).
    const fullBatch = () =>
      metaWebhook(
        Array.from({ length: 1000 }, (_, i) =>
          metaStatus({ id: `wamid.${i}`, conversation: undefined, pricing: undefined }),
        ),
      );
    const batchCalls = () => endpoint.calls.filter((c) => c.target === 'SendMessageBatch');
    const internalError = { code: 'InternalError', senderFault: false };

    it('sends the failed entries again, and only them, and answers 200 once every status is queued', async () => {
      endpoint.failEntries(({ id, attempt }) => (Number(id) % 2 === 1 && attempt <= 2 ? internalError : undefined));
      const response = await ingest(webhookEvent(fullBatch()));
      expect(response.statusCode).toBe(200);
      expect(JSON.parse(response.body)).toMatchObject({ accepted: 1000 });
      expect(batchCalls().map((c) => [c.entries, c.queued, c.failed.length])).toEqual([
        [10, 5, 5],
        [5, 0, 5],
        [5, 5, 0],
      ]);
      const queued = queuedStatuses().map((s) => s.message_id);
      expect(queued).toHaveLength(1000);
      expect(new Set(queued).size).toBe(1000);
    });

    it('answers 503 when an entry still fails after 2 retries, never 200 with statuses missing', async () => {
      endpoint.failEntries(({ id }) => (id === '3' ? internalError : undefined));
      const response = await ingest(webhookEvent(fullBatch()));
      expect(response.statusCode).toBe(503);
      expect(JSON.parse(response.body)).toEqual({ error: 'the status queue is unavailable; retry later' });
      expect(batchCalls().map((c) => [c.entries, c.failed.length])).toEqual([
        [10, 1],
        [1, 1],
        [1, 1],
      ]);
      // The 9 other messages are queued; the provider's retry sends them again, which the merge absorbs.
      expect(queuedStatuses()).toHaveLength(900);
    });

    it("does not resend an entry SQS refuses as the sender's fault, answers 503 and logs the code", async () => {
      const logger = new Logger({ logLevel: 'SILENT' });
      const logged = jest.spyOn(logger, 'error');
      const strict = createIngestHandler({
        queue: new SqsStatusQueue(client, endpoint.queueUrl),
        logger,
        metrics: quietMetrics(),
        maxBodyBytes: 1_048_576,
        credentials: () => NO_CREDENTIALS,
        requireAuth: false,
      });
      endpoint.failEntries(({ id }) =>
        id === '0' ? { code: 'InvalidMessageContents', senderFault: true } : undefined,
      );
      const response = await strict(webhookEvent(fullBatch()));
      expect(response.statusCode).toBe(503);
      expect(batchCalls()).toHaveLength(1);
      expect(logged).toHaveBeenCalledWith(
        expect.stringMatching(/could not queue/),
        expect.objectContaining({
          error: expect.objectContaining({ message: expect.stringMatching(/InvalidMessageContents/) }),
        }),
      );
    });

    it("answers 503 while SQS answers 503, then 200 for the provider's retry once SQS is back", async () => {
      endpoint.setUnavailable(true, 503);
      const event = webhookEvent(fullBatch());
      expect((await ingest(event)).statusCode).toBe(503);
      expect(queue.stats().visible).toBe(0);
      endpoint.setUnavailable(false);
      expect((await ingest(event)).statusCode).toBe(200);
      expect(queuedStatuses()).toHaveLength(1000);
      expect(endpoint.calls.map((c) => c.status)).toEqual([503, 200]);
    });

    it('queues a status whose strings hold U+FFFE and U+FFFF (characters SQS refuses raw) and gives them back unchanged', async () => {
      const campaign = 'diwali\ufffe_offer\uffff';
      const response = await ingest(
        webhookEvent(metaWebhook([metaStatus({ id: 'wamid.nc', biz_opaque_callback_data: campaign })])),
      );
      expect(response.statusCode).toBe(200);
      expect(endpoint.calls.flatMap((c) => c.failed)).toEqual([]);
      expect(queuedStatuses()).toEqual([expect.objectContaining({ message_id: 'wamid.nc', campaign })]);
    });
  });

  it('refuses methods other than POST and GET with 405', async () => {
    const response = await ingest(webhookEvent('', { httpMethod: 'DELETE' }));
    expect(response.statusCode).toBe(405);
  });

  it('carries the request id into every queued message as the correlation id', async () => {
    const event = webhookEvent(flatWebhook([{ id: 'wamid.c', status: 'sent', timestamp: '1704103200' }]));
    await ingest(event);
    const [record] = queue.receive(10);
    expect(JSON.parse(record?.body ?? '{}').correlation_id).toBe(event.requestContext.requestId);
  });
});
