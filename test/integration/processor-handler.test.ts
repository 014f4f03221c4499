import { Logger } from '@aws-lambda-powertools/logger';
import type { StatusUpdate } from '../../lambdas/domain/status-update';
import { createStatusBatchProcessor } from '../../lambdas/processor/process-status-batch';
import type { RetryDelay, RetryQueue } from '../../lambdas/processor/retry-queue';
import { createPostgresExecutor } from '../../lambdas/store/postgres-executor';
import { SqlTrackerStore } from '../../lambdas/store/sql-tracker-store';
import { sqsEvent, sqsRecord } from '../../testkit/events';
import { availableEngines, createTestDatabase, type TestDatabase } from '../support/databases';
import { quietMetrics } from '../support/powertools';
import { at, readRows, update } from '../support/status-rows';

const body = (...statuses: StatusUpdate[]) => JSON.stringify({ v: 1, correlation_id: 'req-1', statuses });
const silent = new Logger({ logLevel: 'SILENT' });
const backoff = { baseSeconds: 180, maxSeconds: 3_600 };

/** A RetryQueue that records what the processor asked (no SDK: the port is the seam). */
function recordingRetries(): RetryQueue & { asked: RetryDelay[][] } {
  const asked: RetryDelay[][] = [];
  return { asked, delayRetries: async (delays) => void asked.push([...delays]) };
}
const received = (record: ReturnType<typeof sqsRecord>, count: number) => ({
  ...record,
  attributes: { ...record.attributes, ApproximateReceiveCount: String(count) },
});

describe.each(availableEngines())('processor handler on %s', (engine) => {
  let db: TestDatabase;
  let process: ReturnType<typeof createStatusBatchProcessor>;

  beforeAll(async () => {
    db = await createTestDatabase(engine);
    const store = new SqlTrackerStore(db.executor);
    process = createStatusBatchProcessor({ store: () => store, logger: silent, metrics: quietMetrics() });
  });
  afterAll(() => db.drop());
  beforeEach(() => db.executor.exec('truncate public.broadcasts_messages'));

  it('applies every record of a batch and reports no failure', async () => {
    const response = await process(
      sqsEvent(
        sqsRecord(body(update('m1', 'sent', 0), update('m2', 'sent', 1))),
        sqsRecord(body(update('m1', 'read', 9))),
      ),
    );
    expect(response).toEqual({ batchItemFailures: [] });
    expect((await readRows(db.executor)).map((r) => [r.message_id, r.current_status])).toEqual([
      ['m1', 'read'],
      ['m2', 'sent'],
    ]);
  });

  it('fails a poison record alone and commits the rest of its batch', async () => {
    const response = await process(
      sqsEvent(
        sqsRecord(body(update('m1', 'sent', 0))),
        sqsRecord('{"not":"a status message"}', 'poison-1'),
        sqsRecord('not even json', 'poison-2'),
        sqsRecord(body(update('m2', 'delivered', 3))),
      ),
    );
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'poison-1' }, { itemIdentifier: 'poison-2' }]);
    expect((await readRows(db.executor)).map((r) => [r.message_id, r.status])).toEqual([
      ['m1', { sent: at(0) }],
      ['m2', { sent: at(3), delivered: at(3) }],
    ]);
  });

  it('does not back off for a status the database refuses for its own data: that record fails alone, at once', async () => {
    const retries = recordingRetries();
    const store = new SqlTrackerStore(db.executor);
    const withRetries = createStatusBatchProcessor({
      store: () => store,
      logger: silent,
      metrics: quietMetrics(),
      outageRetries: { queue: retries, backoff },
    });
    const response = await withRetries(
      sqsEvent(
        sqsRecord(body(update('m1', 'sent', 0, { campaign: 'bad \u0000' })), 'bad'),
        sqsRecord(body(update('m2', 'sent', 0)), 'good'),
      ),
    );
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'bad' }]);
    expect(retries.asked).toEqual([]);
  });

  it('reports every record when all are poison, without throwing', async () => {
    const response = await process(sqsEvent(sqsRecord('[]', 'p1'), sqsRecord('{}', 'p2')));
    expect(response.batchItemFailures).toHaveLength(2);
  });
});

describe('processor handler when the database is down', () => {
  it('throws, so SQS returns the whole batch to the queue', async () => {
    const store = new SqlTrackerStore(
      createPostgresExecutor('postgres://postgres@127.0.0.1:9/none', { connectionTimeoutMillis: 2000 }),
    );
    const process = createStatusBatchProcessor({ store: () => store, logger: silent, metrics: quietMetrics() });
    await expect(process(sqsEvent(sqsRecord(body(update('m1', 'sent', 0)))))).rejects.toThrow();
    await store.close();
  });

  it('first hides each status message for a wait doubling with its receive count; a poison record keeps the plain timeout', async () => {
    const store = new SqlTrackerStore(
      createPostgresExecutor('postgres://postgres@127.0.0.1:9/none', { connectionTimeoutMillis: 2000 }),
    );
    const retries = recordingRetries();
    const process = createStatusBatchProcessor({
      store: () => store,
      logger: silent,
      metrics: quietMetrics(),
      outageRetries: { queue: retries, backoff },
    });
    const event = sqsEvent(
      received(sqsRecord(body(update('m1', 'sent', 0)), 'first'), 1),
      received(sqsRecord(body(update('m2', 'sent', 0)), 'third'), 3),
      received(sqsRecord('not a status message', 'poison'), 3),
      received(sqsRecord(body(update('m3', 'sent', 0)), 'ninth'), 9),
    );
    await expect(process(event)).rejects.toThrow(/could not be stored/);
    expect(retries.asked).toEqual([
      [
        { messageId: 'first', receiptHandle: 'rh-first', delaySeconds: 180 },
        { messageId: 'third', receiptHandle: 'rh-third', delaySeconds: 720 },
        { messageId: 'ninth', receiptHandle: 'rh-ninth', delaySeconds: 3_600 },
      ],
    ]);
    await store.close();
  });

  it('still throws (the batch returns after the plain timeout) when the backoff itself cannot be set', async () => {
    const store = new SqlTrackerStore(
      createPostgresExecutor('postgres://postgres@127.0.0.1:9/none', { connectionTimeoutMillis: 2000 }),
    );
    const broken: RetryQueue = { delayRetries: async () => Promise.reject(new Error('SQS unavailable')) };
    const process = createStatusBatchProcessor({
      store: () => store,
      logger: silent,
      metrics: quietMetrics(),
      outageRetries: { queue: broken, backoff },
    });
    await expect(process(sqsEvent(sqsRecord(body(update('m1', 'sent', 0)))))).rejects.toThrow(/could not be stored/);
    await store.close();
  });
});
