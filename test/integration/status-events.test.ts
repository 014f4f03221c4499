import { StatusChangedDetail, type StatusEventEntry } from '../../lambdas/domain/status-change-event';
import type { StatusUpdate } from '../../lambdas/domain/status-update';
import { createStatusBatchProcessor } from '../../lambdas/processor/process-status-batch';
import type { StatusEventParking, StatusEventSink } from '../../lambdas/processor/status-events';
import { SqlTrackerStore } from '../../lambdas/store/sql-tracker-store';
import { sqsEvent, sqsRecord } from '../../testkit/events';
import { availableEngines, createTestDatabase, type TestDatabase } from '../support/databases';
import { capturingMetrics, silentLogger } from '../support/powertools';
import { at, readRows, update } from '../support/status-rows';

const body = (...statuses: StatusUpdate[]) => JSON.stringify({ v: 1, correlation_id: 'req-1', statuses });

/** A sink that keeps what it is given, or refuses everything while `down`. */
function recordingSink(): StatusEventSink & { events: StatusChangedDetail[]; down: boolean } {
  const sink = {
    events: [] as StatusChangedDetail[],
    down: false,
    async put(entries: readonly StatusEventEntry[]) {
      if (sink.down) return [...entries];
      for (const e of entries) sink.events.push(StatusChangedDetail.parse(JSON.parse(e.Detail)));
      return [];
    },
  };
  return sink;
}

describe.each(availableEngines())('status-change events through the processor on %s', (engine) => {
  let db: TestDatabase;
  let store: SqlTrackerStore;
  beforeAll(async () => {
    db = await createTestDatabase(engine);
    store = new SqlTrackerStore(db.executor);
  });
  afterAll(() => db.drop());
  beforeEach(() => db.executor.exec('truncate public.broadcasts_messages'));

  const processorWith = (sink: StatusEventSink, parking?: StatusEventParking) => {
    const captured = capturingMetrics();
    const process = createStatusBatchProcessor({
      store: () => store,
      logger: silentLogger(),
      metrics: captured.metrics,
      statusEvents: { sink, parking, recipientPolicy: 'masked' },
    });
    return { process, captured };
  };

  it('publishes one event per real change, after the commit, and none when the batch is delivered again', async () => {
    const sink = recordingSink();
    const { process, captured } = processorWith(sink);
    try {
      const first = sqsEvent(
        sqsRecord(
          body(
            update('m1', 'sent', 0, { phone_number: '+919876543210', campaign: 'diwali' }),
            update('m2', 'sent', 1),
            update('m2', 'delivered', 4),
          ),
        ),
      );
      await process(first);
      // What the sink saw was committed: the rows are there.
      expect((await readRows(db.executor)).map((r) => r.message_id)).toEqual(['m1', 'm2']);
      expect(sink.events.map((e) => [e.message_id, e.previous_status, e.status])).toEqual([
        ['m1', null, 'sent'],
        ['m2', null, 'delivered'],
      ]);
      expect(sink.events[0]).toMatchObject({
        campaign: 'diwali',
        recipient: '+91********10',
        stages: { sent: at(0) },
        error: null,
      });

      // SQS delivers the same batch again: the rows do not change, so no event.
      await process(first);
      expect(sink.events).toHaveLength(2);

      // A failure with WhatsApp's error, then a read: one event each, previous status as stored before.
      await process(
        sqsEvent(
          sqsRecord(body(update('m1', 'failed', 9, { error: { code: 131026, title: 'Message undeliverable' } }))),
        ),
      );
      await process(sqsEvent(sqsRecord(body(update('m2', 'read', 20)))));
      expect(sink.events.slice(2).map((e) => [e.message_id, e.previous_status, e.status, e.error])).toEqual([
        ['m1', 'sent', 'failed', { code: 131026, title: 'Message undeliverable' }],
        ['m2', 'delivered', 'read', null],
      ]);
      // The event's status is the row's current_status (the SQL rule), for every message.
      const rows = await readRows(db.executor);
      for (const row of rows) {
        const last = sink.events.filter((e) => e.message_id === row.message_id).at(-1)!;
        expect([row.message_id, last.status, last.stages]).toEqual([row.message_id, row.current_status, row.status]);
      }
      expect(captured.values('StatusEventsPublished').reduce((n, v) => n + v.value, 0)).toBe(4);
    } finally {
      captured.restore();
    }
  });

  it('parks what the bus refuses, and counts as lost what the retry queue refuses too; the rows stay', async () => {
    const sink = recordingSink();
    sink.down = true;
    const parked: StatusEventEntry[] = [];
    const parking: StatusEventParking & { down: boolean } = {
      down: false,
      async park(entries) {
        if (parking.down) throw new Error('SQS unavailable');
        parked.push(...entries);
      },
    };
    const { process, captured } = processorWith(sink, parking);
    try {
      const response = await process(sqsEvent(sqsRecord(body(update('m1', 'sent', 0), update('m2', 'sent', 0)))));
      expect(response).toEqual({ batchItemFailures: [] });
      expect(parked.map((e) => JSON.parse(e.Detail).message_id)).toEqual(['m1', 'm2']);
      parking.down = true;
      await process(sqsEvent(sqsRecord(body(update('m3', 'sent', 0)))));
      expect((await readRows(db.executor)).map((r) => r.message_id)).toEqual(['m1', 'm2', 'm3']);
      const total = (name: string) => captured.values(name).reduce((n, v) => n + v.value, 0);
      expect([total('StatusEventsPublished'), total('StatusEventsParked'), total('StatusEventsLost')]).toEqual([
        0, 2, 1,
      ]);
    } finally {
      captured.restore();
    }
  });
});
