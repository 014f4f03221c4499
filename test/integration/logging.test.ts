import { Logger } from '@aws-lambda-powertools/logger';
import { NO_CREDENTIALS } from '../../lambdas/domain/webhook-auth';
import { createIngestHandler } from '../../lambdas/ingest/ingest-webhook';
import type { StatusQueue } from '../../lambdas/ingest/status-queue';
import { createStatusBatchProcessor } from '../../lambdas/processor/process-status-batch';
import { SqlStatusStore } from '../../lambdas/store/sql-status-store';
import { createTestDatabase, type TestDatabase } from '../support/databases';
import { sqsEvent, sqsRecord, webhookEvent } from '../support/events';
import { quietMetrics } from '../support/powertools';
import { aisensyMessage, aisensyWebhook, metaStatus, metaWebhook } from '../fixtures/webhooks';

/** Structured JSON logs, read from stdout: correlation from webhook to row, and no phone number or secret. */
describe('logs', () => {
  let db: TestDatabase;
  let lines: Record<string, unknown>[];
  let raw: string;

  beforeAll(async () => {
    db = await createTestDatabase('pglite');
    const queued: string[] = [];
    const queue: StatusQueue = { send: async (requests) => void queued.push(...requests.flat()) };
    const logger = new Logger({ serviceName: 'test', logLevel: 'DEBUG' });
    raw = '';
    const capture = (chunk: unknown) => {
      raw += String(chunk);
      return true;
    };
    // Powertools writes INFO and DEBUG to stdout, WARN and ERROR to stderr.
    const spies = [jest.spyOn(process.stdout, 'write').mockImplementation(capture), jest.spyOn(process.stderr, 'write').mockImplementation(capture)];
    try {
      const ingest = createIngestHandler({ queue, logger, metrics: quietMetrics(), maxBodyBytes: 1e6, credentials: () => ({ ...NO_CREDENTIALS, sharedTokens: ['s3cret-token-value'] }), requireAuth: true });
      const event = webhookEvent(metaWebhook([metaStatus(), metaStatus({ status: 'bogus' })]), { headers: { 'x-webhook-token': 's3cret-token-value' } });
      event.requestContext.requestId = 'req-correlation-42';
      await ingest(event);
      await ingest(webhookEvent(aisensyWebhook(aisensyMessage()), { headers: { 'x-webhook-token': 'wrong-guess' } }));
      const process = createStatusBatchProcessor({ store: () => new SqlStatusStore(db.executor), logger, metrics: quietMetrics() });
      await process(sqsEvent(...queued.map((body) => sqsRecord(body))));
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    lines = raw.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  });
  afterAll(() => db.drop());

  it('writes structured JSON lines', () => {
    expect(lines.map((l) => l.message)).toEqual(expect.arrayContaining(['webhook accepted', 'webhook items rejected', 'webhook refused', 'batch applied']));
    expect(lines.every((l) => typeof l.level === 'string' && typeof l.message === 'string')).toBe(true);
  });

  it('carries the webhook request id through the queue to the processor', () => {
    expect(lines.find((l) => l.message === 'batch applied')).toMatchObject({ correlationIds: ['req-correlation-42'], statuses: 1 });
  });

  it('never writes a phone number or a secret', () => {
    expect(raw).not.toContain('919876543210');
    expect(raw).not.toContain('9876543210');
    expect(raw).not.toContain('s3cret-token-value');
    expect(raw).not.toContain('wrong-guess');
  });
});
