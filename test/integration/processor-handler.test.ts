import { Logger } from '@aws-lambda-powertools/logger';
import { createStatusBatchProcessor } from '../../lambdas/processor/process-status-batch';
import { createPostgresExecutor } from '../../lambdas/store/postgres-executor';
import { SqlStatusStore } from '../../lambdas/store/sql-status-store';
import type { StatusUpdate } from '../../lambdas/domain/status-update';
import { availableEngines, createTestDatabase, type TestDatabase } from '../support/databases';
import { sqsEvent, sqsRecord } from '../support/events';
import { quietMetrics } from '../support/powertools';
import { at, readRows, update } from '../support/status-rows';

const body = (...statuses: StatusUpdate[]) => JSON.stringify({ v: 1, correlation_id: 'req-1', statuses });
const silent = new Logger({ logLevel: 'SILENT' });

describe.each(availableEngines())('processor handler on %s', (engine) => {
  let db: TestDatabase;
  let process: ReturnType<typeof createStatusBatchProcessor>;

  beforeAll(async () => {
    db = await createTestDatabase(engine);
    const store = new SqlStatusStore(db.executor);
    process = createStatusBatchProcessor({ store: () => store, logger: silent, metrics: quietMetrics() });
  });
  afterAll(() => db.drop());
  beforeEach(() => db.executor.exec('truncate public.broadcasts_messages'));

  it('applies every record of a batch and reports no failure', async () => {
    const response = await process(
      sqsEvent(sqsRecord(body(update('m1', 'sent', 0), update('m2', 'sent', 1))), sqsRecord(body(update('m1', 'read', 9)))),
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

  it('reports every record when all are poison, without throwing', async () => {
    const response = await process(sqsEvent(sqsRecord('[]', 'p1'), sqsRecord('{}', 'p2')));
    expect(response.batchItemFailures).toHaveLength(2);
  });
});

describe('processor handler when the database is down', () => {
  it('throws, so SQS returns the whole batch to the queue', async () => {
    const store = new SqlStatusStore(createPostgresExecutor('postgres://postgres@127.0.0.1:9/none', { connectionTimeoutMillis: 2000 }));
    const process = createStatusBatchProcessor({ store: () => store, logger: silent, metrics: quietMetrics() });
    await expect(process(sqsEvent(sqsRecord(body(update('m1', 'sent', 0)))))).rejects.toThrow();
    await store.close();
  });
});
