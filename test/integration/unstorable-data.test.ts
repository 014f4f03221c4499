import type { StatusUpdate } from '../../lambdas/domain/status-update';
import { NO_CREDENTIALS } from '../../lambdas/domain/webhook-auth';
import { createIngestHandler } from '../../lambdas/ingest/ingest-webhook';
import type { StatusQueue } from '../../lambdas/ingest/status-queue';
import { createStatusBatchProcessor } from '../../lambdas/processor/process-status-batch';
import { SqlTrackerStore } from '../../lambdas/store/sql-tracker-store';
import { isDataError } from '../../lambdas/store/status-store';
import { sqsEvent, sqsRecord, webhookEvent } from '../../testkit/events';
import { metaStatus, metaWebhook } from '../../testkit/webhooks';
import { availableEngines, createTestDatabase, type TestDatabase } from '../support/databases';
import { quietMetrics, silentLogger } from '../support/powertools';
import { readRow, readRows, update } from '../support/status-rows';

/**
 * Issue 11, item 1: one status with `\u0000` or a lone surrogate passed validation, got 200, then PostgreSQL's jsonb
 * refused it (22P05) and the whole queue message, 99 valid statuses with it, failed on every receive into the DLQ.
 * Measured: 100 accepted, 0 stored. Both ends are tested here, on every engine the run has.
 */
const body = (...statuses: StatusUpdate[]) => JSON.stringify({ v: 1, correlation_id: 'req-1', statuses });
const hundred = (prefix: string) =>
  Array.from({ length: 100 }, (_, i) => update(`${prefix}${String(i).padStart(3, '0')}`, 'sent', i % 50));

describe.each(availableEngines())('unstorable data on %s', (engine) => {
  let db: TestDatabase;
  let process: ReturnType<typeof createStatusBatchProcessor>;

  beforeAll(async () => {
    db = await createTestDatabase(engine);
    const store = new SqlTrackerStore(db.executor);
    process = createStatusBatchProcessor({ store: () => store, logger: silentLogger(), metrics: quietMetrics() });
  });
  afterAll(() => db.drop());
  beforeEach(() => db.executor.exec('truncate public.broadcasts_messages'));

  it('stores all 100 statuses of a webhook whose campaign, conversation or pricing holds NUL, lone surrogates or U+FFFF', async () => {
    // Arrange: the case, through the real ingest handler and the real processor.
    const queued: string[] = [];
    const queue: StatusQueue = { send: async (requests) => void queued.push(...requests.flat()) };
    const ingest = createIngestHandler({
      queue,
      logger: silentLogger(),
      metrics: quietMetrics(),
      maxBodyBytes: 1e6,
      credentials: () => NO_CREDENTIALS,
      requireAuth: false,
    });
    const statuses = Array.from({ length: 100 }, (_, i) => metaStatus({ id: `wamid.${String(i).padStart(3, '0')}` }));
    statuses[10] = metaStatus({ id: 'wamid.010', biz_opaque_callback_data: 'diwali \u0000 offer \ud83d' });
    statuses[20] = metaStatus({
      id: 'wamid.020',
      conversation: { id: 'c\u0000', origin: { type: '\udc00x', 'k\u0000': '\uffff' } },
    });
    statuses[30] = metaStatus({ id: 'wamid.030', pricing: { category: 'marketing \ud83d\ude00 \ud83d' } });
    // Act
    const response = await ingest(webhookEvent(metaWebhook(statuses)));
    const result = await process(sqsEvent(...queued.map((b) => sqsRecord(b))));
    // Assert: 100 accepted, 100 stored, the unstorable characters replaced by U+FFFD and nothing else changed.
    expect(JSON.parse(response.body)).toMatchObject({ accepted: 100, rejected: [] });
    expect(result.batchItemFailures).toEqual([]);
    expect(await readRows(db.executor)).toHaveLength(100);
    expect((await readRow(db.executor, 'wamid.010'))?.campaign).toBe('diwali \ufffd offer \ufffd');
    expect((await readRow(db.executor, 'wamid.020'))?.conversation).toEqual({
      id: 'c\ufffd',
      origin: { type: '\ufffdx', 'k\ufffd': '\uffff' },
    });
    expect((await readRow(db.executor, 'wamid.030'))?.pricing).toEqual({ category: 'marketing 😀 \ufffd' });
  });

  it('stores the 99 storable statuses of a queue message and fails only that message when one status is refused (22P05)', async () => {
    // Arrange: a message queued before the ingest fix, and a clean message beside it.
    const poisoned = hundred('a');
    poisoned[42] = update('a042', 'sent', 1, { campaign: 'bad \u0000 campaign', phone_number: '+919876543210' });
    // Act
    const result = await process(
      sqsEvent(sqsRecord(body(...poisoned), 'poisoned'), sqsRecord(body(...hundred('b')), 'clean')),
    );
    // Assert
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'poisoned' }]);
    const ids = (await readRows(db.executor)).map((r) => r.message_id);
    expect(ids).toHaveLength(199);
    expect(ids).not.toContain('a042');
  });

  it('isolates every kind of data error: a lone surrogate, a year PostgreSQL cannot hold (22008), in several records', async () => {
    const first = hundred('c');
    first[0] = update('c000', 'read', 0, { conversation: { id: '\ud83d' } });
    first[99] = update('c099', 'sent', 0, { timestamp: '0000-01-01T00:00:00.000Z' });
    const second = hundred('d');
    second[50] = update('d050', 'delivered', 0, { pricing: { note: 'x\u0000' } });

    const result = await process(
      sqsEvent(
        sqsRecord(body(...first), 'first'),
        sqsRecord(body(...hundred('e')), 'third'),
        sqsRecord(body(...second), 'second'),
      ),
    );

    expect(result.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['first', 'second']);
    const ids = (await readRows(db.executor)).map((r) => r.message_id);
    expect(ids).toHaveLength(297);
    expect(ids.filter((id) => ['c000', 'c099', 'd050'].includes(id))).toEqual([]);
  });

  it('a redelivered message changes nothing for the statuses already stored and fails again alone', async () => {
    const poisoned = hundred('f');
    poisoned[7] = update('f007', 'sent', 0, { campaign: '\u0000' });
    const event = sqsEvent(sqsRecord(body(...poisoned), 'again'));
    await process(event);
    const before = await readRows(db.executor);
    const result = await process(event);
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'again' }]);
    expect(await readRows(db.executor)).toEqual(before);
  });
});

describe('isDataError', () => {
  it.each([
    ['22P05', true],
    ['22008', true],
    ['23505', true],
    ['54001', true],
    ['08006', false],
    ['57P01', false],
    ['40P01', false],
    ['ECONNREFUSED', false],
    ['PGRST301', false],
    [undefined, false],
  ])('classifies code %p as a data error: %p', (code, expected) => {
    expect(isDataError(Object.assign(new Error('x'), { code }))).toBe(expected);
  });
});
