import { Logger } from '@aws-lambda-powertools/logger';
import { SQSClient } from '@aws-sdk/client-sqs';
import { QueueMessage } from '../../lambdas/domain/queue-message';
import { NO_CREDENTIALS } from '../../lambdas/domain/webhook-auth';
import { createIngestHandler } from '../../lambdas/ingest/ingest-webhook';
import { SqsStatusQueue } from '../../lambdas/ingest/status-queue';
import { LocalQueue } from '../../local/local-queue';
import { startSqsEndpoint, type SqsEndpoint } from '../../local/sqs-endpoint';
import { webhookEvent } from '../support/events';
import { quietMetrics } from '../support/powertools';
import { aisensyWebhook, metaStatus, metaWebhook, flatWebhook } from '../fixtures/webhooks';

/** The real SDK client and SqsStatusQueue, talking SQS's JSON protocol to a loopback endpoint. */
describe('ingest handler', () => {
  let queue: LocalQueue;
  let endpoint: SqsEndpoint;
  let client: SQSClient;
  let ingest: ReturnType<typeof createIngestHandler>;

  beforeEach(async () => {
    queue = new LocalQueue({ name: 'status-updates' });
    endpoint = await startSqsEndpoint(queue);
    client = new SQSClient({ endpoint: endpoint.endpoint, region: 'local', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 });
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
    const response = await ingest(webhookEvent(metaWebhook([metaStatus({ id: 'wamid.1' }), metaStatus({ id: 'wamid.2', status: 'read' })])));
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
      webhookEvent(flatWebhook([{ id: 'wamid.ok', status: 'sent', timestamp: '1704103200' }, { id: 'wamid.x', status: 'exploded', timestamp: '1' }])),
    );
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ accepted: 1, rejected: [{ index: 1, reason: 'unknown status "exploded"' }] });
    expect(queuedStatuses()).toHaveLength(1);
  });

  it('acknowledges an AiSensy topic without statuses with 200 and queues nothing', async () => {
    const response = await ingest(webhookEvent(aisensyWebhook(undefined, { topic: 'contact.created' })));
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ accepted: 0, ignored: expect.stringMatching(/contact\.created/) });
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
    const response = await small(webhookEvent(flatWebhook(Array.from({ length: 10 }, () => ({ id: 'w', status: 'sent', timestamp: '1704103200' })))));
    expect(response.statusCode).toBe(413);
    expect(queue.stats().visible).toBe(0);
  });

  it('decodes a base64 body when API Gateway says so', async () => {
    const body = Buffer.from(JSON.stringify(flatWebhook([{ id: 'wamid.b64', status: 'sent', timestamp: '1704103200' }]))).toString('base64');
    const response = await ingest(webhookEvent(body, { isBase64Encoded: true }));
    expect(JSON.parse(response.body)).toMatchObject({ accepted: 1 });
    expect(queuedStatuses()[0]?.message_id).toBe('wamid.b64');
  });

  it('answers 503 when the queue is unavailable, so the provider retries, and never leaks internals', async () => {
    endpoint.setUnavailable(true);
    const response = await ingest(webhookEvent(flatWebhook([{ id: 'wamid.1', status: 'sent', timestamp: '1704103200' }])));
    expect(response.statusCode).toBe(503);
    expect(response.body).not.toMatch(/127\.0\.0\.1|stack|Error:/);
    endpoint.setUnavailable(false);
    expect(queue.stats().visible).toBe(0);
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
