import { createHmac } from 'node:crypto';
import type { Context, Handler } from 'aws-lambda';
import { QueueMessage } from '../../lambdas/domain/queue-message';
import { isPayloadFormat2, toProxyEvent } from '../../lambdas/ingest/api-gateway-event';
import { LocalQueue } from '../../local/local-queue';
import { type SqsEndpoint, startSqsEndpoint } from '../../local/sqs-endpoint';
import { startFakeSecretsManager } from '../../testkit/fake-secrets-manager';
import { metaStatus, metaWebhook } from '../../testkit/webhooks';
import {
  AWS_EXAMPLE_V1,
  AWS_EXAMPLE_V2,
  type WebhookRequest,
  webhookRequestV1,
  webhookRequestV2,
} from '../fixtures/api-gateway-events';

/**
 * Issue 17, item 2: the ingest accepts both payload formats, REST's (1.0) and the HTTP API's (2.0, what
 * `apiType: http` deploys), built from AWS's own example events (test/fixtures/api-gateway-events.ts). Each goes
 * through the deployed entry point, lambdas/ingest/handler.ts with its real SDK clients, against loopback SQS and
 * Secrets Manager endpoints.
 */
type LambdaHandler = Handler<unknown, { statusCode: number; body: string; headers?: Record<string, string> }>;

const SECRET = { META_APP_SECRET: 'app-secret', WEBHOOK_SHARED_TOKEN: 'path-token', WEBHOOK_VERIFY_TOKEN: 'verify-me' };
const context = {
  functionName: 'ingest',
  awsRequestId: 'lambda-req',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;

const VERSIONS = [
  ['1.0', webhookRequestV1, AWS_EXAMPLE_V1.requestContext.requestTimeEpoch],
  ['2.0', webhookRequestV2, AWS_EXAMPLE_V2.requestContext.timeEpoch],
] as const;

describe.each(VERSIONS)('payload format %s through the ingest Lambda', (_version, build, receivedAtMs) => {
  const saved = { ...process.env };
  let queue: LocalQueue;
  let sqs: SqsEndpoint;
  let secrets: Awaited<ReturnType<typeof startFakeSecretsManager>>;
  let handler: LambdaHandler;

  beforeAll(async () => {
    queue = new LocalQueue({ name: 'status-updates' });
    sqs = await startSqsEndpoint(queue);
    secrets = await startFakeSecretsManager({ 'tracker/webhook': SECRET });
    Object.assign(process.env, {
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      QUEUE_URL: sqs.queueUrl,
      AWS_ENDPOINT_URL_SQS: sqs.endpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
      WEBHOOK_SECRET_ID: 'tracker/webhook',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    });
    await jest.isolateModulesAsync(async () => {
      ({ handler } = (await import('../../lambdas/ingest/handler')) as unknown as { handler: LambdaHandler });
    });
  });
  afterAll(async () => {
    process.env = saved;
    await sqs.close();
    await secrets.close();
  });
  beforeEach(() => queue.receive(10_000));

  type Answer = { statusCode: number; body: string };
  const call = async (request: WebhookRequest) => (await handler(build(request), context, () => undefined)) as Answer;
  const queued = () => queue.receive(1000).map((record) => QueueMessage.parse(JSON.parse(record.body)));
  // A status sent a minute before API Gateway received the call, in 2020 like AWS's examples: accepted only if the
  // receipt time is read from the event (timeEpoch or requestTimeEpoch); against today's clock it is years too old.
  const body = JSON.stringify(
    metaWebhook([metaStatus({ id: 'wamid.v', timestamp: String(Math.floor(receivedAtMs / 1000) - 60) })]),
  );
  const signature = `sha256=${createHmac('sha256', SECRET.META_APP_SECRET).update(body).digest('hex')}`;

  it('POST /webhook signed by Meta: 200, queued under the request id, timed by the receipt', async () => {
    const response = await call({
      method: 'POST',
      route: '/webhook',
      headers: { 'Content-Type': 'application/json', 'X-Hub-Signature-256': signature },
      body,
      requestId: 'req-signed',
    });
    expect(response).toMatchObject({ statusCode: 200 });
    expect(JSON.parse(response.body)).toEqual({ accepted: 1, rejected: [] });
    const messages = queued();
    expect(messages.map((m) => m.correlation_id)).toEqual(['req-signed']);
    expect(messages.flatMap((m) => m.statuses.map((s) => s.message_id))).toEqual(['wamid.v']);
  });

  it('POST /webhook/{token}: the path parameter authenticates', async () => {
    const response = await call({ method: 'POST', route: '/webhook/{token}', token: 'path-token', body });
    expect(response.statusCode).toBe(200);
    const wrong = await call({ method: 'POST', route: '/webhook/{token}', token: 'not-it', body });
    expect(wrong.statusCode).toBe(401);
  });

  it('a base64-encoded body is checked and parsed as the bytes sent', async () => {
    const response = await call({
      method: 'POST',
      route: '/webhook',
      headers: { 'x-hub-signature-256': signature },
      body: Buffer.from(body).toString('base64'),
      isBase64Encoded: true,
    });
    expect(response.statusCode).toBe(200);
  });

  it("GET /webhook: Meta's verification handshake answers the challenge, and 403 for a wrong token", async () => {
    const query = { 'hub.mode': 'subscribe', 'hub.verify_token': 'verify-me', 'hub.challenge': '1158201444' };
    const response = await call({ method: 'GET', route: '/webhook', query });
    expect(response).toMatchObject({ statusCode: 200, body: '1158201444' });
    const refused = await call({ method: 'GET', route: '/webhook', query: { ...query, 'hub.verify_token': 'no' } });
    expect(refused.statusCode).toBe(403);
  });

  it('an empty body is a 400 with a reason, not a 5xx', async () => {
    const response = await call({ method: 'POST', route: '/webhook', headers: { 'x-hub-signature-256': signature } });
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toEqual({ error: 'body is empty; expected a JSON webhook' });
  });

  it('a signature header sent twice, a forged one first: 2.0 joins them and refuses, 1.0 takes the last', async () => {
    const response = await call({
      method: 'POST',
      route: '/webhook',
      headers: { 'X-Hub-Signature-256': [`sha256=${'0'.repeat(64)}`, signature] },
      body,
    });
    // 2.0 joins the two with a comma, which matches no signature. 1.0 keeps the last in `headers`: the good one.
    expect(response.statusCode).toBe(_version === '2.0' ? 401 : 200);
  });
});

describe('toProxyEvent', () => {
  it("reads AWS's 2.0 example in the REST shape: method, headers, query, path parameters, id, receipt time", () => {
    expect(isPayloadFormat2(AWS_EXAMPLE_V2)).toBe(true);
    const event = toProxyEvent(AWS_EXAMPLE_V2);
    expect(event).toMatchObject({
      httpMethod: 'POST',
      headers: { header1: 'value1', header2: 'value1,value2' },
      queryStringParameters: { parameter1: 'value1,value2', parameter2: 'value' },
      pathParameters: { parameter1: 'value1' },
      body: 'Hello from Lambda',
      isBase64Encoded: false,
      requestContext: { requestId: 'id', requestTimeEpoch: 1583348638390, identity: { sourceIp: 'IP' } },
    });
    expect(JSON.stringify(event)).not.toContain('cookie1');
  });

  it('gives the route template as the resource, never the token in the path', () => {
    const event = toProxyEvent(webhookRequestV2({ method: 'POST', route: '/webhook/{token}', token: 'secret-tok' }));
    expect(event.resource).toBe('/webhook/{token}');
    expect(event.requestContext.resourcePath).toBe('/webhook/{token}');
    expect(event.pathParameters).toEqual({ token: 'secret-tok' });
    expect(event.body).toBeNull();
    expect(event.queryStringParameters).toBeNull();
  });

  it('passes a 1.0 event (REST, or an HTTP API in format 1.0) through unchanged', () => {
    const v1 = webhookRequestV1({ method: 'POST', route: '/webhook', body: '{}' });
    expect(isPayloadFormat2(v1)).toBe(false);
    expect(toProxyEvent(v1)).toBe(v1);
  });
});
