import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { APIGatewayProxyResult, Context } from 'aws-lambda';
import {
  INGEST_BUDGET,
  INGEST_TIMEOUT_SECONDS,
  PROVIDER_DEADLINE_MS,
  SDK_FIRST_RETRY_DELAY_MS,
  worstCaseIngestMs,
} from '../../lambdas/domain/ingest-budget';
import { loadConfig } from '../../lib/config';
import { LocalQueue } from '../../local/local-queue';
import { startSqsEndpoint } from '../../local/sqs-endpoint';
import { webhookEvent } from '../../testkit/events';
import { startFakeSecretsManager } from '../../testkit/fake-secrets-manager';

/**
 * The ingest's 5-second deadline (issue 11, item 15): the budget's arithmetic, then the real Lambda entry point
 * (lambdas/ingest/handler.ts, its real SDK clients) against loopback Secrets Manager and SQS endpoints that accept
 * the connection and never answer.
 */
describe('ingest time budget', () => {
  it('answers well inside the provider deadline in the worst case, cold start included', () => {
    expect(worstCaseIngestMs()).toBeLessThanOrEqual(PROVIDER_DEADLINE_MS - 1_000);
  });

  it.each([
    [
      'Secrets Manager',
      INGEST_BUDGET.secretAttempts,
      INGEST_BUDGET.secretConnectMs + INGEST_BUDGET.secretRequestMs,
      INGEST_BUDGET.secretReadMs,
    ],
    [
      'SQS',
      INGEST_BUDGET.queueAttempts,
      INGEST_BUDGET.queueConnectMs + INGEST_BUDGET.queueRequestMs,
      INGEST_BUDGET.queueSendMs,
    ],
    [
      'Firehose (the archive)',
      INGEST_BUDGET.archiveAttempts,
      INGEST_BUDGET.archiveConnectMs + INGEST_BUDGET.archiveRequestMs,
      INGEST_BUDGET.archiveWriteMs,
    ],
  ])(
    "%s: the client's attempts and its first backoff fit inside the call's deadline",
    (_name, attempts, perAttemptMs, deadlineMs) => {
      expect(attempts).toBeGreaterThanOrEqual(2); // one blip is retried
      expect(attempts * perAttemptMs + (attempts - 1) * SDK_FIRST_RETRY_DELAY_MS).toBeLessThanOrEqual(deadlineMs);
    },
  );

  it("bounds the Lambda timeout between the calls' deadlines and the provider's deadline", () => {
    const config = loadConfig({}, {});
    expect(config.ingestTimeoutSeconds * 1000).toBeGreaterThanOrEqual(
      INGEST_BUDGET.secretReadMs + INGEST_BUDGET.queueSendMs,
    );
    expect(config.ingestTimeoutSeconds * 1000).toBeLessThan(PROVIDER_DEADLINE_MS);
    expect(config.ingestTimeoutSeconds).toBe(INGEST_TIMEOUT_SECONDS.default);
    expect(() => loadConfig({}, { INGEST_TIMEOUT_SECONDS: '6' })).toThrow(/ingestTimeoutSeconds/);
    expect(() => loadConfig({}, { INGEST_TIMEOUT_SECONDS: '2' })).toThrow(/ingestTimeoutSeconds/);
  });
});

/** Accepts connections, reads requests, never answers (a black-holed endpoint). */
async function startHangingEndpoint(): Promise<{ endpoint: string; requests: () => number; close(): Promise<void> }> {
  let requests = 0;
  const sockets = new Set<Socket>();
  const pending = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    requests++;
    pending.add(res);
    req.resume();
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests: () => requests,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

type LambdaHandler = (event: unknown, context: Context) => Promise<APIGatewayProxyResult>;

/** The deployed entry point, loaded fresh (module-scope clients, secret cache) with this environment. */
async function loadIngestHandler(env: Record<string, string>): Promise<LambdaHandler> {
  Object.assign(process.env, env);
  let handler: LambdaHandler | undefined;
  await jest.isolateModulesAsync(async () => {
    ({ handler } = (await import('../../lambdas/ingest/handler')) as unknown as { handler: LambdaHandler });
  });
  return handler as LambdaHandler;
}

const context = {
  functionName: 'ingest',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:ingest',
  memoryLimitInMB: '256',
  awsRequestId: 'req-1',
  logGroupName: '/aws/lambda/ingest',
  logStreamName: 'stream',
  callbackWaitsForEmptyEventLoop: true,
  // Far away: middy's early-timeout response must not stand in for the handler's own deadlines being tested here.
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;

/** The handler's answer and how long it took, or 'no answer' if it had none after twice the provider's deadline. */
async function timed(handler: LambdaHandler, token: string) {
  const started = performance.now();
  const event = webhookEvent(
    { statuses: [{ id: 'wamid.budget', status: 'sent', timestamp: String(Math.floor(Date.now() / 1000)) }] },
    { headers: { 'x-webhook-token': token } },
  );
  let guard: NodeJS.Timeout | undefined;
  const answer = await Promise.race([
    handler(event, context),
    new Promise<'no answer'>((resolve) => (guard = setTimeout(() => resolve('no answer'), 2 * PROVIDER_DEADLINE_MS))),
  ]);
  clearTimeout(guard);
  return { answer, ms: performance.now() - started };
}

describe('the ingest Lambda against endpoints that hang', () => {
  // Generous for a busy shared machine, yet each bound stays under the provider's 5 s.
  const SLACK_MS = 1_000;
  const saved = { ...process.env };
  let hanging: Awaited<ReturnType<typeof startHangingEndpoint>>;
  let secrets: Awaited<ReturnType<typeof startFakeSecretsManager>>;
  const baseEnv = () => ({
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    WEBHOOK_SECRET_ID: 'tracker/webhook',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });

  beforeEach(async () => {
    hanging = await startHangingEndpoint();
    secrets = await startFakeSecretsManager({ 'tracker/webhook': { WEBHOOK_SHARED_TOKEN: 'tok-budget' } });
  });
  afterEach(async () => {
    process.env = { ...saved };
    await hanging.close();
    await secrets.close();
  });

  it('Secrets Manager hangs on a cold start: 503 within the secret read deadline', async () => {
    const handler = await loadIngestHandler({
      ...baseEnv(),
      QUEUE_URL: `${secrets.endpoint}/123456789012/status-updates`,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: hanging.endpoint,
    });
    const { answer, ms } = await timed(handler, 'tok-budget');
    expect(answer).toMatchObject({
      statusCode: 503,
      body: JSON.stringify({ error: 'webhook authentication is unavailable; retry later' }),
    });
    expect(ms).toBeLessThan(INGEST_BUDGET.secretReadMs + SLACK_MS);
    expect(hanging.requests()).toBeGreaterThanOrEqual(1);
    expect(hanging.requests()).toBeLessThanOrEqual(INGEST_BUDGET.secretAttempts);
  }, 30_000);

  it('SQS hangs: 503 within the queue deadline, and the next webhook is answered as fast', async () => {
    const handler = await loadIngestHandler({
      ...baseEnv(),
      QUEUE_URL: `${hanging.endpoint}/123456789012/status-updates`,
      AWS_ENDPOINT_URL_SQS: hanging.endpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
    });
    for (let i = 0; i < 2; i++) {
      const { answer, ms } = await timed(handler, 'tok-budget');
      expect(answer).toMatchObject({
        statusCode: 503,
        body: JSON.stringify({ error: 'the status queue is unavailable; retry later' }),
      });
      expect(ms).toBeLessThan(INGEST_BUDGET.secretReadMs + INGEST_BUDGET.queueSendMs + SLACK_MS);
    }
    // Each attempt timed out and the SDK retried within the deadline: every attempt reached the endpoint.
    expect(hanging.requests()).toBe(2 * INGEST_BUDGET.queueAttempts);
  }, 30_000);

  it('Firehose (the archive) hangs: 200 with the statuses queued, within the archive deadline, which runs beside the queue send', async () => {
    const queue = new LocalQueue({ name: 'status-updates' });
    const sqs = await startSqsEndpoint(queue);
    try {
      const handler = await loadIngestHandler({
        ...baseEnv(),
        QUEUE_URL: sqs.queueUrl,
        AWS_ENDPOINT_URL_SQS: sqs.endpoint,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
        ARCHIVE_STREAM_NAME: 'archive',
        AWS_ENDPOINT_URL_FIREHOSE: hanging.endpoint,
      });
      const { answer, ms } = await timed(handler, 'tok-budget');
      expect(answer).toMatchObject({ statusCode: 200 });
      expect(queue.stats().visible).toBe(1);
      expect(ms).toBeLessThan(INGEST_BUDGET.secretReadMs + INGEST_BUDGET.archiveWriteMs + SLACK_MS);
      expect(hanging.requests()).toBeGreaterThanOrEqual(1);
      expect(hanging.requests()).toBeLessThanOrEqual(INGEST_BUDGET.archiveAttempts);
    } finally {
      await sqs.close();
    }
  }, 30_000);
});
