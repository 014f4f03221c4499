import { Logger } from '@aws-lambda-powertools/logger';
import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { mockClient } from 'aws-sdk-client-mock';
import { ArchiveAssembler, type ArchivedWebhook } from '../../lambdas/domain/archive-record';
import { INGEST_BUDGET } from '../../lambdas/domain/ingest-budget';
import { METRIC } from '../../lambdas/domain/metric-names';
import { NO_CREDENTIALS } from '../../lambdas/domain/webhook-auth';
import { createIngestHandler } from '../../lambdas/ingest/ingest-webhook';
import type { StatusQueue } from '../../lambdas/ingest/status-queue';
import {
  ArchiveUnavailableError,
  FirehoseWebhookArchive,
  type WebhookArchive,
} from '../../lambdas/ingest/webhook-archive';
import { webhookEvent } from '../../testkit/events';
import { metaStatus, metaWebhook } from '../../testkit/webhooks';
import { capturingMetrics } from '../support/powertools';

const TOKEN = 'tok-archive';

/** The ingest with a recording queue and the given archive; the metrics it publishes are captured. */
function ingestWith(archive: WebhookArchive, queue: StatusQueue = { send: async () => undefined }) {
  const captured = capturingMetrics();
  const ingest = createIngestHandler({
    queue,
    archive,
    logger: new Logger({ logLevel: 'SILENT' }),
    metrics: captured.metrics,
    maxBodyBytes: 1_048_576,
    credentials: () => ({ ...NO_CREDENTIALS, sharedTokens: [TOKEN] }),
    requireAuth: true,
    newArchiveId: () => 'archive-1',
  });
  return { ingest, captured };
}

const event = (body: unknown, token = TOKEN) =>
  webhookEvent(body, {
    headers: {
      'content-type': 'application/json',
      'x-webhook-token': token,
      'X-AiSensy-Project-Id': 'project-7',
      authorization: 'Bearer never-kept',
    },
    requestContext: { requestId: 'req-9', requestTimeEpoch: Date.now() } as never,
  });

/** Keeps what it was given. */
function recordingArchive() {
  const webhooks: ArchivedWebhook[] = [];
  const archive: WebhookArchive = {
    put: async (lines) => {
      const assembler = new ArchiveAssembler();
      for (const line of lines) {
        const webhook = assembler.push(line);
        if (webhook) webhooks.push(webhook);
      }
    },
  };
  return { archive, webhooks };
}

describe('the ingest archives every authenticated webhook', () => {
  afterEach(() => jest.restoreAllMocks());

  it('archives the exact body with its receipt, request id, format and the headers normalization reads, never a credential', async () => {
    const { archive, webhooks } = recordingArchive();
    const { ingest, captured } = ingestWith(archive);
    const body = JSON.stringify(metaWebhook([metaStatus({ id: 'wamid.a1' })]), null, 2);
    const sent = event(body);
    const response = await ingest(sent);
    captured.restore();
    expect(response.statusCode).toBe(200);
    expect(webhooks).toEqual([
      {
        id: 'archive-1',
        receivedAtMs: sent.requestContext.requestTimeEpoch,
        requestId: 'req-9',
        format: 'meta',
        auth: 'shared-token',
        headers: { 'content-type': 'application/json', 'x-aisensy-project-id': 'project-7' },
        body: new Uint8Array(Buffer.from(body)),
      },
    ]);
    expect(JSON.stringify(webhooks)).not.toContain(TOKEN);
    expect(JSON.stringify(webhooks)).not.toContain('never-kept');
  });

  it('archives a body the current rules refuse (400), so a fixed rule can replay it; not one that failed authentication', async () => {
    const { archive, webhooks } = recordingArchive();
    const { ingest, captured } = ingestWith(archive);
    expect((await ingest(event({ topic: 'unknown.shape' }))).statusCode).toBe(400);
    expect((await ingest(event(metaWebhook([metaStatus()]), 'wrong-token'))).statusCode).toBe(401);
    captured.restore();
    expect(webhooks.map((w) => [w.format, Buffer.from(w.body).toString()])).toEqual([
      [undefined, JSON.stringify({ topic: 'unknown.shape' })],
    ]);
  });

  it('answers 200 when the archive fails, with the statuses queued, and counts the failure', async () => {
    const sent: unknown[] = [];
    const { ingest, captured } = ingestWith(
      { put: async () => Promise.reject(new ArchiveUnavailableError('firehose down')) },
      { send: async (requests) => void sent.push(...requests) },
    );
    const response = await ingest(event(metaWebhook([metaStatus({ id: 'wamid.f1' })])));
    captured.restore();
    expect(response.statusCode).toBe(200);
    expect(JSON.stringify(sent)).toContain('wamid.f1');
    expect(captured.values(METRIC.ArchiveFailures).map((v) => v.value)).toEqual([1]);
    expect(captured.values(METRIC.StatusesAccepted).map((v) => v.value)).toEqual([1]);
  });

  it('answers 503 when the queue fails even though the archive has the webhook: the provider retries', async () => {
    const { archive, webhooks } = recordingArchive();
    const { ingest, captured } = ingestWith(archive, { send: async () => Promise.reject(new Error('sqs down')) });
    const response = await ingest(event(metaWebhook([metaStatus()])));
    captured.restore();
    expect(response.statusCode).toBe(503);
    expect(webhooks).toHaveLength(1);
    expect(captured.values(METRIC.ArchiveFailures)).toEqual([]);
  });

  it('runs the archive write beside the queue send, not after it', async () => {
    const order: string[] = [];
    const slow = (name: string) => async () => {
      order.push(`${name} started`);
      await new Promise((resolve) => setImmediate(resolve));
      order.push(`${name} done`);
    };
    const { ingest, captured } = ingestWith({ put: slow('archive') }, { send: slow('queue') });
    await ingest(event(metaWebhook([metaStatus()])));
    captured.restore();
    expect(order.slice(0, 2).sort()).toEqual(['archive started', 'queue started']);
  });
});

describe('FirehoseWebhookArchive', () => {
  const firehose = mockClient(FirehoseClient);
  afterEach(() => firehose.reset());
  const client = () =>
    new FirehoseClient({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });

  it('puts the lines to its one stream and sends again only the records Firehose failed', async () => {
    firehose
      .on(PutRecordBatchCommand)
      .resolvesOnce({
        FailedPutCount: 1,
        RequestResponses: [{ RecordId: '1' }, { ErrorCode: 'ServiceUnavailableException' }],
      })
      .resolves({ FailedPutCount: 0, RequestResponses: [{ RecordId: '3' }] });
    await new FirehoseWebhookArchive(client(), 'archive-stream').put(['a\n', 'b\n']);
    const calls = firehose.commandCalls(PutRecordBatchCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => c.DeliveryStreamName)).toEqual(['archive-stream', 'archive-stream']);
    expect(calls.map((c) => c.Records!.map((r) => Buffer.from(r.Data!).toString()))).toEqual([['a\n', 'b\n'], ['b\n']]);
  });

  it('fails (to be counted) when records keep failing or the call fails', async () => {
    firehose.on(PutRecordBatchCommand).resolves({ FailedPutCount: 1, RequestResponses: [{ ErrorCode: 'Throttled' }] });
    await expect(new FirehoseWebhookArchive(client(), 's').put(['a\n'])).rejects.toThrow(
      /still failed after 2 retries/,
    );
    firehose.reset();
    firehose.on(PutRecordBatchCommand).rejects(new Error('AccessDenied'));
    await expect(new FirehoseWebhookArchive(client(), 's').put(['a\n'])).rejects.toBeInstanceOf(
      ArchiveUnavailableError,
    );
  });

  it('gives up at its deadline when Firehose does not answer', async () => {
    firehose.on(PutRecordBatchCommand).callsFake(() => new Promise(() => undefined));
    await expect(new FirehoseWebhookArchive(client(), 's', 20).put(['a\n'])).rejects.toThrow(/within 20 ms/);
  });

  it('keeps each call within 500 records and 4 MB', async () => {
    firehose.on(PutRecordBatchCommand).resolves({ FailedPutCount: 0 });
    const big = `${'x'.repeat(990_000)}\n`;
    await new FirehoseWebhookArchive(client(), 's').put([...Array(5).fill(big), ...Array(600).fill('a\n')]);
    const sizes = firehose.commandCalls(PutRecordBatchCommand).map((c) => c.args[0].input.Records!.length);
    expect(sizes).toEqual([4, 500, 101]);
  });

  it('fits the ingest budget: the archive is no longer than the queue send, so the worst case does not grow', () => {
    expect(INGEST_BUDGET.archiveWriteMs).toBeLessThanOrEqual(INGEST_BUDGET.queueSendMs);
  });
});
