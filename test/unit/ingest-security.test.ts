import { createHmac } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { NO_CREDENTIALS, type WebhookCredentials } from '../../lambdas/domain/webhook-auth';
import { createIngestHandler } from '../../lambdas/ingest/ingest-webhook';
import type { StatusQueue } from '../../lambdas/ingest/status-queue';
import { readJsonSecret, toWebhookCredentials, WebhookSecret } from '../../lambdas/shared/secrets';
import { webhookEvent } from '../../testkit/events';
import { startFakeSecretsManager } from '../../testkit/fake-secrets-manager';
import { flatWebhook } from '../../testkit/webhooks';
import { quietMetrics } from '../support/powertools';

/** A queue that records what it was given: these tests are about what reaches it. */
class RecordingQueue implements StatusQueue {
  readonly requests: (readonly string[])[] = [];
  async send(requests: readonly (readonly string[])[]): Promise<void> {
    this.requests.push(...requests);
  }
}

const body = JSON.stringify(flatWebhook([{ id: 'wamid.1', status: 'sent', timestamp: '1704103200' }]));
const sign = (secret: string, data: string) => `sha256=${createHmac('sha256', secret).update(data).digest('hex')}`;

function setup(
  credentials: WebhookCredentials,
  requireAuth = true,
  extra: { maxBodyBytes?: number; maxStatusesPerWebhook?: number } = {},
) {
  const queue = new RecordingQueue();
  const ingest = createIngestHandler({
    queue,
    logger: new Logger({ logLevel: 'SILENT' }),
    metrics: quietMetrics(),
    maxBodyBytes: extra.maxBodyBytes ?? 1_048_576,
    maxStatusesPerWebhook: extra.maxStatusesPerWebhook,
    credentials: () => credentials,
    requireAuth,
  });
  return { queue, ingest };
}

describe('ingest handler security', () => {
  const meta = { ...NO_CREDENTIALS, metaAppSecrets: ['s3cr3t'], verifyToken: 'verify-me' };

  it('queues a correctly signed Meta webhook', async () => {
    const { queue, ingest } = setup(meta);
    const response = await ingest(webhookEvent(body, { headers: { 'X-Hub-Signature-256': sign('s3cr3t', body) } }));
    expect(response.statusCode).toBe(200);
    expect(queue.requests).toHaveLength(1);
  });

  it('checks the signature over the base64-decoded body when API Gateway encoded it', async () => {
    const { queue, ingest } = setup(meta);
    const event = webhookEvent(Buffer.from(body).toString('base64'), {
      isBase64Encoded: true,
      headers: { 'x-hub-signature-256': sign('s3cr3t', body) },
    });
    expect((await ingest(event)).statusCode).toBe(200);
    expect(queue.requests).toHaveLength(1);
  });

  it.each([
    ['no signature', {}],
    ['a wrong signature', { 'x-hub-signature-256': sign('guess', body) }],
  ])('answers 401 to %s and queues nothing', async (_name, headers) => {
    const { queue, ingest } = setup(meta);
    const response = await ingest(webhookEvent(body, { headers }));
    expect(response.statusCode).toBe(401);
    expect(queue.requests).toHaveLength(0);
  });

  it('refuses with 503 and queues nothing when auth is required but nothing is configured', async () => {
    const { queue, ingest } = setup(NO_CREDENTIALS, true);
    const response = await ingest(webhookEvent(body));
    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body)).toEqual({ error: 'webhook authentication is not configured' });
    expect(queue.requests).toHaveLength(0);
  });

  it('accepts unauthenticated calls only when auth is explicitly not required', async () => {
    const { queue, ingest } = setup(NO_CREDENTIALS, false);
    expect((await ingest(webhookEvent(body))).statusCode).toBe(200);
    expect(queue.requests).toHaveLength(1);
  });

  it('accepts a shared token in the path (/webhook/{token})', async () => {
    const { ingest } = setup({ ...NO_CREDENTIALS, sharedTokens: ['tok-123'] });
    expect((await ingest(webhookEvent(body, { pathParameters: { token: 'tok-123' } }))).statusCode).toBe(200);
    expect((await ingest(webhookEvent(body, { pathParameters: { token: 'tok-999' } }))).statusCode).toBe(401);
  });

  it('answers the verification handshake as plain text, 403 on a wrong token', async () => {
    const { ingest } = setup(meta);
    const ok = await ingest(
      webhookEvent('', {
        httpMethod: 'GET',
        queryStringParameters: {
          'hub.mode': 'subscribe',
          'hub.verify_token': 'verify-me',
          'hub.challenge': 'CHALLENGE_ACCEPTED',
        },
      }),
    );
    expect(ok).toMatchObject({
      statusCode: 200,
      body: 'CHALLENGE_ACCEPTED',
      headers: { 'content-type': 'text/plain' },
    });
    const bad = await ingest(
      webhookEvent('', {
        httpMethod: 'GET',
        queryStringParameters: { 'hub.mode': 'subscribe', 'hub.verify_token': 'nope', 'hub.challenge': 'x' },
      }),
    );
    expect(bad.statusCode).toBe(403);
  });

  it('answers 413 from the declared Content-Length before reading the body', async () => {
    const { queue, ingest } = setup(NO_CREDENTIALS, false, { maxBodyBytes: 1000 });
    const response = await ingest(webhookEvent(body, { headers: { 'content-length': '5000000' } }));
    expect(response.statusCode).toBe(413);
    expect(queue.requests).toHaveLength(0);
  });

  it('answers 413 to a webhook with more statuses than allowed', async () => {
    const { queue, ingest } = setup(NO_CREDENTIALS, false, { maxStatusesPerWebhook: 2 });
    const many = flatWebhook([1, 2, 3].map((i) => ({ id: `wamid.${i}`, status: 'sent', timestamp: '1704103200' })));
    expect((await ingest(webhookEvent(many))).statusCode).toBe(413);
    expect(queue.requests).toHaveLength(0);
  });

  it('refuses an oversized body or a wrong method before reading any secret', async () => {
    let reads = 0;
    const ingest = createIngestHandler({
      queue: new RecordingQueue(),
      logger: new Logger({ logLevel: 'SILENT' }),
      metrics: quietMetrics(),
      maxBodyBytes: 10,
      credentials: () => {
        reads++;
        return meta;
      },
      requireAuth: true,
    });
    expect((await ingest(webhookEvent(body))).statusCode).toBe(413);
    expect((await ingest(webhookEvent(body, { httpMethod: 'PUT' }))).statusCode).toBe(405);
    expect(reads).toBe(0);
  });

  describe('a blank or non-string credential in the webhook secret fails closed (issue 11, item 11)', () => {
    // The secret is read the way the Lambda reads it: Powertools Parameters and the real SDK, from a loopback endpoint.
    async function fromSecret(value: Record<string, unknown>) {
      const secrets = await startFakeSecretsManager({ 'tracker/webhook': value });
      const client = new SecretsManagerClient({
        endpoint: secrets.endpoint,
        region: 'local',
        credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
        maxAttempts: 1,
      });
      const provider = new SecretsProvider({ awsSdkV3Client: client });
      const logger = new Logger({ logLevel: 'SILENT' });
      const errors = jest.spyOn(logger, 'error');
      const queue = new RecordingQueue();
      const ingest = createIngestHandler({
        queue,
        logger,
        metrics: quietMetrics(),
        maxBodyBytes: 1_048_576,
        credentials: async () => toWebhookCredentials(await readJsonSecret(WebhookSecret, 'tracker/webhook', provider)),
        requireAuth: true,
      });
      const close = async () => {
        client.destroy();
        await secrets.close();
      };
      return { ingest, queue, logged: () => errors.mock.calls.map((call) => JSON.stringify(call)).join('\n'), close };
    }

    it.each([
      [
        'an empty META_APP_SECRET beside a valid token',
        { META_APP_SECRET: '', WEBHOOK_SHARED_TOKEN: 'tok-123' },
        'META_APP_SECRET',
      ],
      [
        'a whitespace WEBHOOK_SHARED_TOKEN_PREVIOUS',
        { WEBHOOK_SHARED_TOKEN: 'tok-123', WEBHOOK_SHARED_TOKEN_PREVIOUS: '   ' },
        'WEBHOOK_SHARED_TOKEN_PREVIOUS',
      ],
      [
        'a numeric AISENSY_WEBHOOK_SECRET',
        { AISENSY_WEBHOOK_SECRET: 12345, WEBHOOK_SHARED_TOKEN: 'tok-123' },
        'AISENSY_WEBHOOK_SECRET',
      ],
      ['a blank WEBHOOK_SHARED_TOKEN as the only credential', { WEBHOOK_SHARED_TOKEN: '' }, 'WEBHOOK_SHARED_TOKEN'],
      ['a null WEBHOOK_SHARED_TOKEN as the only credential', { WEBHOOK_SHARED_TOKEN: null }, 'WEBHOOK_SHARED_TOKEN'],
    ])('%s: 503 even with a valid token, nothing queued, the key named in the log', async (_name, value, key) => {
      const { ingest, queue, logged, close } = await fromSecret(value);
      try {
        const response = await ingest(webhookEvent(body, { headers: { 'x-webhook-token': 'tok-123' } }));
        expect(response.statusCode).toBe(503);
        expect(JSON.parse(response.body)).toEqual({ error: 'webhook authentication is not configured' });
        expect(queue.requests).toHaveLength(0);
        expect(logged()).toContain(key);
        expect(logged()).not.toContain('tok-123');
      } finally {
        await close();
      }
    });

    it('a well-formed secret still authenticates (absent keys are simply off)', async () => {
      const { ingest, queue, close } = await fromSecret({ WEBHOOK_SHARED_TOKEN: ' tok-123 ' });
      try {
        expect((await ingest(webhookEvent(body, { headers: { 'x-webhook-token': 'tok-123' } }))).statusCode).toBe(200);
        expect((await ingest(webhookEvent(body, { headers: { 'x-webhook-token': 'tok-999' } }))).statusCode).toBe(401);
        expect(queue.requests).toHaveLength(1);
      } finally {
        await close();
      }
    });
  });

  it('never echoes internals when the credentials cannot be read: 503, a fixed body', async () => {
    const ingest = createIngestHandler({
      queue: new RecordingQueue(),
      logger: new Logger({ logLevel: 'SILENT' }),
      metrics: quietMetrics(),
      maxBodyBytes: 1000,
      credentials: () => {
        throw new Error(
          'ResourceNotFoundException: secret arn:aws:secretsmanager:eu-west-1:123:secret:x at /var/task/index.mjs:1:2',
        );
      },
      requireAuth: true,
    });
    const response = await ingest(webhookEvent(body));
    expect(response).toMatchObject({
      statusCode: 503,
      body: JSON.stringify({ error: 'webhook authentication is unavailable; retry later' }),
    });
  });
});
