import { Logger } from '@aws-lambda-powertools/logger';
import type { StatusUpdate } from '../../lambdas/domain/status-update';
import { NO_CREDENTIALS } from '../../lambdas/domain/webhook-auth';
import { createIngestHandler } from '../../lambdas/ingest/ingest-webhook';
import type { StatusQueue } from '../../lambdas/ingest/status-queue';
import { createStatusBatchProcessor } from '../../lambdas/processor/process-status-batch';
import { createPostgresExecutor } from '../../lambdas/store/postgres-executor';
import { SqlTrackerStore } from '../../lambdas/store/sql-tracker-store';
import { sqsEvent, sqsRecord, webhookEvent } from '../../testkit/events';
import { aisensyMessage, aisensyWebhook, metaStatus, metaWebhook } from '../../testkit/webhooks';
import { availableEngines, createTestDatabase, type TestDatabase } from '../support/databases';
import { quietMetrics } from '../support/powertools';

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
    const spies = [
      jest.spyOn(process.stdout, 'write').mockImplementation(capture),
      jest.spyOn(process.stderr, 'write').mockImplementation(capture),
    ];
    try {
      const ingest = createIngestHandler({
        queue,
        logger,
        metrics: quietMetrics(),
        maxBodyBytes: 1e6,
        credentials: () => ({ ...NO_CREDENTIALS, sharedTokens: ['s3cret-token-value'] }),
        requireAuth: true,
      });
      // Two items refused for a value that holds the recipient's number: the reason quotes what the client sent.
      const event = webhookEvent(
        metaWebhook([
          metaStatus(),
          metaStatus({ status: 'bogus919876543210' }),
          metaStatus({ timestamp: 'x919876543210' }),
        ]),
        {
          headers: { 'x-webhook-token': 's3cret-token-value' },
        },
      );
      event.requestContext.requestId = 'req-correlation-42';
      await ingest(event);
      await ingest(webhookEvent(aisensyWebhook(aisensyMessage()), { headers: { 'x-webhook-token': 'wrong-guess' } }));
      const process = createStatusBatchProcessor({
        store: () => new SqlTrackerStore(db.executor),
        logger,
        metrics: quietMetrics(),
      });
      await process(sqsEvent(...queued.map((body) => sqsRecord(body))));
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    lines = raw
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  });
  afterAll(() => db.drop());

  it('writes structured JSON lines', () => {
    expect(lines.map((l) => l.message)).toEqual(
      expect.arrayContaining(['webhook accepted', 'webhook items rejected', 'webhook refused', 'batch applied']),
    );
    expect(lines.every((l) => typeof l.level === 'string' && typeof l.message === 'string')).toBe(true);
  });

  it('carries the webhook request id through the queue to the processor', () => {
    expect(lines.find((l) => l.message === 'batch applied')).toMatchObject({
      correlationIds: ['req-correlation-42'],
      statuses: 1,
    });
  });

  it('never writes a phone number or a secret', () => {
    expect(raw).not.toContain('919876543210');
    expect(raw).not.toContain('9876543210');
    expect(raw).not.toContain('s3cret-token-value');
    expect(raw).not.toContain('wrong-guess');
  });
});

/** Runs `act` with Powertools' real output (stdout for INFO/DEBUG, stderr for WARN/ERROR) captured as text. */
async function captureOutput(act: () => Promise<unknown>): Promise<string> {
  let raw = '';
  const capture = (chunk: unknown) => {
    raw += String(chunk);
    return true;
  };
  const spies = [
    jest.spyOn(process.stdout, 'write').mockImplementation(capture),
    jest.spyOn(process.stderr, 'write').mockImplementation(capture),
  ];
  try {
    await act().catch(() => undefined);
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  return raw;
}

const PHONE = '+919876543210';
const phoneDigits = ['919876543210', '9876543210', '98765'];

/**
 * Issue 11, item 10: PostgreSQL's error context quotes the JSON around a fault, phone number included, and the
 * logger copies every field of an error. Real database errors, real log output.
 */
describe.each(availableEngines())('logs when the database refuses a status (%s)', (engine) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(engine);
  });
  afterAll(() => db.drop());

  const poison: StatusUpdate = {
    message_id: 'wamid.poison',
    status: 'sent',
    timestamp: '2024-01-01T10:00:00.000Z',
    phone_number: PHONE,
    campaign: 'offer \u0000',
  };
  const valid: StatusUpdate = {
    message_id: 'wamid.valid',
    status: 'sent',
    timestamp: '2024-01-01T10:00:00.000Z',
    phone_number: PHONE,
  };

  it('the database error itself quotes the phone number (what the logs must not repeat)', async () => {
    const error = await new SqlTrackerStore(db.executor).applyStatusUpdates([poison]).then(
      () => undefined,
      (e: unknown) => e as { code?: string; where?: string },
    );
    expect(error?.code).toBe('22P05');
    expect(error?.where).toContain('919876543210');
  });

  it('names the refused status and the SQLSTATE, and never writes the phone number', async () => {
    const logger = new Logger({ serviceName: 'test', logLevel: 'DEBUG' });
    const process = createStatusBatchProcessor({
      store: () => new SqlTrackerStore(db.executor),
      logger,
      metrics: quietMetrics(),
    });
    const raw = await captureOutput(() =>
      process(sqsEvent(sqsRecord(JSON.stringify({ v: 1, statuses: [valid, poison] }), 'sqs-poison'))),
    );
    const lines = raw
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(
      lines.find((l) => l.message === 'a status update cannot be stored; its queue message fails alone'),
    ).toMatchObject({
      sqsMessageId: 'sqs-poison',
      statusIndex: 1,
      messageId: 'wamid.poison',
      error: { code: '22P05' },
    });
    for (const digits of phoneDigits) expect(raw).not.toContain(digits);
  });
});

describe('logs whatever else fails', () => {
  it('an unreachable database: the thrown error and the log line hold no phone number', async () => {
    const logger = new Logger({ serviceName: 'test', logLevel: 'DEBUG' });
    const store = new SqlTrackerStore(
      createPostgresExecutor('postgres://postgres@127.0.0.1:9/none', { connectionTimeoutMillis: 2000 }),
    );
    const process = createStatusBatchProcessor({ store: () => store, logger, metrics: quietMetrics() });
    let thrown: unknown;
    const raw = await captureOutput(async () => {
      thrown = await process(
        sqsEvent(
          sqsRecord(
            JSON.stringify({
              v: 1,
              statuses: [
                { message_id: 'm', status: 'sent', timestamp: '2024-01-01T10:00:00.000Z', phone_number: PHONE },
              ],
            }),
          ),
        ),
      ).catch((e: unknown) => e);
    });
    await store.close();
    expect(raw).toContain('the batch could not be stored');
    for (const digits of phoneDigits) expect(raw).not.toContain(digits);
    expect(thrown).toMatchObject({ name: 'BatchNotStoredError', message: expect.stringContaining('ECONNREFUSED') });
    expect(Object.keys(thrown as object)).not.toEqual(expect.arrayContaining(['cause', 'where', 'detail']));
  });

  it('a queue failure whose error quotes a phone number (message, detail, cause) is logged without it', async () => {
    const logger = new Logger({ serviceName: 'test', logLevel: 'DEBUG' });
    const failing: StatusQueue = {
      send: async () => {
        throw Object.assign(new Error(`refused body {"phone_number":"${PHONE}"}`), {
          detail: PHONE,
          cause: new Error(PHONE),
          code: 'InvalidMessageContents',
        });
      },
    };
    const ingest = createIngestHandler({
      queue: failing,
      logger,
      metrics: quietMetrics(),
      maxBodyBytes: 1e6,
      credentials: () => NO_CREDENTIALS,
      requireAuth: false,
    });
    let status = 0;
    const raw = await captureOutput(async () => {
      status = (await ingest(webhookEvent(metaWebhook([metaStatus()])))).statusCode;
    });
    expect(status).toBe(503);
    expect(raw).toContain('InvalidMessageContents');
    for (const digits of phoneDigits) expect(raw).not.toContain(digits);
  });
});
