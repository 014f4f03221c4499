import type { StatusUpdate } from '../../lambdas/domain/status-update';
import { createStatusBatchProcessor } from '../../lambdas/processor/process-status-batch';
import { createPostgresExecutor } from '../../lambdas/store/postgres-executor';
import { SqlTrackerStore } from '../../lambdas/store/sql-tracker-store';
import { sqsEvent, sqsRecord } from '../../testkit/events';
import { createTestDatabase, type TestDatabase } from '../support/databases';
import { capturingMetrics, silentLogger } from '../support/powertools';
import { update } from '../support/status-rows';

const body = (...statuses: StatusUpdate[]) => JSON.stringify({ v: 1, statuses });

/** The processor's EMF output, read from stdout as CloudWatch would. */
describe('processor metrics (EMF)', () => {
  let db: TestDatabase;
  let store: SqlTrackerStore;
  beforeAll(async () => {
    db = await createTestDatabase('pglite');
    store = new SqlTrackerStore(db.executor);
  });
  afterAll(() => db.drop());

  it('publishes applied statuses by kind, latencies without inferred times, DB duration; a retry adds no applied status', async () => {
    const capture = capturingMetrics();
    try {
      const process = createStatusBatchProcessor({
        store: () => store,
        logger: silentLogger(),
        metrics: capture.metrics,
      });
      const batch = sqsEvent(
        sqsRecord(body(update('m1', 'sent', 0), update('m1', 'delivered', 4), update('m2', 'read', 20))),
        sqsRecord('poison', 'p1'),
      );
      await process(batch);
      const firstApplied = capture.values('StatusesApplied');
      await process(batch); // the same batch again, as SQS redelivers it

      expect(firstApplied.map((v) => [v.dimensions.Status, v.value]).sort()).toEqual([
        ['delivered', 1],
        ['read', 1],
        ['sent', 1],
      ]);
      expect(capture.values('StatusesApplied')).toHaveLength(3); // nothing new the second time
      expect(capture.values('DeliveryLatency').map((v) => v.value)).toEqual([4]); // m2's delivered is inferred
      expect(capture.values('StatusesReceived').map((v) => v.value)).toEqual([3, 3]);
      expect(capture.values('PoisonRecords').map((v) => v.value)).toEqual([1, 1]);
      expect(capture.values('DatabaseCallDuration')).toHaveLength(2);
      expect(capture.documents[0]?._aws.CloudWatchMetrics[0]?.Namespace).toBe('WhatsAppDeliveryTracker');
    } finally {
      capture.restore();
    }
  });

  it('publishes a database error and the call duration when the database fails', async () => {
    const capture = capturingMetrics();
    try {
      // A real PostgreSQL connection to a port where nothing listens, not a stub.
      const unreachable = new SqlTrackerStore(
        createPostgresExecutor('postgres://postgres@127.0.0.1:9/none', { connectionTimeoutMillis: 2000 }),
      );
      const process = createStatusBatchProcessor({
        store: () => unreachable,
        logger: silentLogger(),
        metrics: capture.metrics,
      });
      await expect(process(sqsEvent(sqsRecord(body(update('m9', 'sent', 0)))))).rejects.toThrow(/ECONNREFUSED/);
      expect(capture.values('DatabaseErrors').map((v) => v.value)).toEqual([1]);
      expect(capture.values('DatabaseCallDuration')).toHaveLength(1);
      await unreachable.close();
    } finally {
      capture.restore();
    }
  });
});
