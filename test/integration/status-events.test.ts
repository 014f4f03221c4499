import { Client } from 'pg';
import { StatusChangedDetail, type StatusEventEntry } from '../../lambdas/domain/status-change-event';
import type { StatusUpdate } from '../../lambdas/domain/status-update';
import { createStatusBatchProcessor } from '../../lambdas/processor/process-status-batch';
import { drainStatusEvents, RELAY_SETTINGS } from '../../lambdas/processor/status-event-relay';
import type { StatusEventSink } from '../../lambdas/processor/status-events';
import { SqlTrackerStore } from '../../lambdas/store/sql-tracker-store';
import { sqsEvent, sqsRecord } from '../../testkit/events';
import { availableEngines, createTestDatabase, hasRealPostgres, type TestDatabase } from '../support/databases';
import { capturingMetrics, quietMetrics, silentLogger } from '../support/powertools';
import { at, readRows, update } from '../support/status-rows';

const body = (...statuses: StatusUpdate[]) => JSON.stringify({ v: 1, correlation_id: 'req-1', statuses });
const updatesJson = (...statuses: StatusUpdate[]) => JSON.stringify(statuses);

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

describe.each(availableEngines())('status-change events through the outbox on %s', (engine) => {
  let db: TestDatabase;
  let store: SqlTrackerStore;
  beforeAll(async () => {
    db = await createTestDatabase(engine);
    store = new SqlTrackerStore(db.executor);
  });
  afterAll(() => db.drop());
  // The erasure test's messages are remembered (0032); each test starts afresh, forgetting them too.
  beforeEach(() =>
    db.executor.exec(
      'truncate public.broadcasts_messages, public.status_event_outbox, public.broadcasts_erased_messages',
    ),
  );

  const outboxSize = async () =>
    Number((await db.executor.query<{ n: string }>('select count(*) as n from public.status_event_outbox')).rows[0]?.n);
  const processor = () =>
    createStatusBatchProcessor({
      store: () => store,
      logger: silentLogger(),
      metrics: quietMetrics(),
      statusEvents: true,
    });
  const drain = (sink: StatusEventSink, metrics = quietMetrics()) =>
    drainStatusEvents(
      { outbox: store, sink, recipientPolicy: 'masked', logger: silentLogger(), metrics },
      { ...RELAY_SETTINGS, lingerMs: 0 },
    );

  it('writes one outbox entry per real change with the rows; the relay publishes them and empties the outbox', async () => {
    const sink = recordingSink();
    const process = processor();
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
    // Committed with the rows, and nothing published by the batch itself.
    expect((await readRows(db.executor)).map((r) => r.message_id)).toEqual(['m1', 'm2']);
    expect([await outboxSize(), sink.events.length]).toEqual([2, 0]);

    // SQS delivers the same batch again: the rows do not change, so no entry.
    await process(first);
    expect(await outboxSize()).toBe(2);

    const captured = capturingMetrics();
    try {
      expect(await drain(sink, captured.metrics)).toMatchObject({ published: 2, refused: 0 });
      captured.metrics.publishStoredMetrics();
      expect(captured.values('StatusEventsPublished').map((v) => v.value)).toEqual([2]);
    } finally {
      captured.restore();
    }
    expect(await outboxSize()).toBe(0);
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

    // A failure with WhatsApp's error, then a read: one event each, previous status as stored before.
    await process(
      sqsEvent(sqsRecord(body(update('m1', 'failed', 9, { error: { code: 131026, title: 'Message undeliverable' } })))),
    );
    await process(sqsEvent(sqsRecord(body(update('m2', 'read', 20)))));
    await drain(sink);
    expect(sink.events.slice(2).map((e) => [e.message_id, e.previous_status, e.status, e.error])).toEqual([
      ['m1', 'sent', 'failed', { code: 131026, title: 'Message undeliverable' }],
      ['m2', 'delivered', 'read', null],
    ]);
    // The event's status is the row's current_status (the SQL rule), for every message.
    for (const row of await readRows(db.executor)) {
      const last = sink.events.filter((e) => e.message_id === row.message_id).at(-1)!;
      expect([row.message_id, last.status, last.stages]).toEqual([row.message_id, row.current_status, row.status]);
    }
  });

  it('writes no entry for a row that changed only in its pricing (not a status change)', async () => {
    await store.applyStatusUpdatesWithEvents([update('m1', 'sent', 0)]);
    const changed = await store.applyStatusUpdatesWithEvents([
      update('m1', 'sent', 0, { pricing: { billable: true, category: 'marketing' } }),
    ]);
    // The row changed (apply_status_updates reports it), its stage times did not: one entry, the first.
    expect(changed.map((c) => c.message_id)).toEqual(['m1']);
    expect(await outboxSize()).toBe(1);
  });

  it('gives an event the error only when its change has a failed stage, and no recipient once the row is erased', async () => {
    await store.applyStatusUpdatesWithEvents([update('m1', 'sent', 0, { phone_number: '+919876543210' })]);
    await store.applyStatusUpdatesWithEvents([update('m1', 'failed', 5, { error: { code: 131026, title: 'x' } })]);
    await store.applyStatusUpdatesWithEvents([update('m2', 'sent', 0, { phone_number: '+919800000000' })]);
    await db.executor.query(`select public.erase_recipient('+919800000000', 'test')`);
    const claimed = await store.claimStatusEvents(10, 60);
    expect(claimed.map((c) => [c.message_id, c.error_code, c.phone_number, c.attempts])).toEqual([
      ['m1', null, '+919876543210', 1], // the `sent` change, drained after the failure: no error on it
      ['m1', 131026, '+919876543210', 1],
      ['m2', null, null, 1], // erased: its row no longer has this id
    ]);
    expect(claimed[0]!.id).toBeLessThan(claimed[1]!.id);
    expect(claimed[0]!.applied_at).toBeInstanceOf(Date);
  });

  it('writes no entry when the status transaction rolls back, nor for an update the database refuses', async () => {
    await db.executor.exec('begin');
    try {
      await db.executor.query('select * from public.apply_status_updates_with_events($1::jsonb)', [
        updatesJson(update('m1', 'sent', 0)),
      ]);
      expect(await outboxSize()).toBe(1);
    } finally {
      await db.executor.exec('rollback');
    }
    expect([await outboxSize(), (await readRows(db.executor)).length]).toEqual([0, 0]);
    const refused = await store
      .applyStatusUpdatesWithEvents([update('m2', 'sent', 0), { ...update('m3', 'sent', 0), status: 'bogus' } as never])
      .catch((e: { code?: string }) => e.code);
    expect([refused, await outboxSize()]).toEqual(['22023', 0]);
  });

  it('acknowledges only what the bus accepted: a refused entry comes back once its lease has expired', async () => {
    await store.applyStatusUpdatesWithEvents([update('m1', 'sent', 0), update('m2', 'sent', 0)]);
    const sink = recordingSink();
    sink.down = true;
    expect(await drain(sink)).toMatchObject({ claimed: 2, refused: 2 });
    // Leased: nothing to claim until the lease ends.
    expect(await store.claimStatusEvents(10, 60)).toEqual([]);
    await db.executor.exec(`update public.status_event_outbox set claimed_until = now() - interval '1 second'`);
    sink.down = false;
    expect(await drain(sink)).toMatchObject({ claimed: 2, published: 2 });
    expect(await outboxSize()).toBe(0);
    // A lease of 0 s returns an entry to the next claim: what a relay that crashed after claiming leaves.
    await store.applyStatusUpdatesWithEvents([update('m3', 'sent', 0)]);
    expect((await store.claimStatusEvents(10, 0)).map((c) => c.attempts)).toEqual([1]);
    expect((await store.claimStatusEvents(10, 0)).map((c) => c.attempts)).toEqual([2]);
    expect(await store.ackStatusEvents([])).toBe(0);
  });

  it('refuses a claim of nonsense sizes with a data error', async () => {
    await expect(store.claimStatusEvents(0, 60)).rejects.toMatchObject({ code: '22023' });
    await expect(store.claimStatusEvents(10, -1)).rejects.toMatchObject({ code: '22023' });
  });
});

(hasRealPostgres() ? describe : describe.skip)('the outbox under concurrent relays (real PostgreSQL)', () => {
  let db: TestDatabase;
  let store: SqlTrackerStore;
  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    store = new SqlTrackerStore(db.executor);
  });
  afterAll(() => db.drop());

  const connect = async () => {
    const client = new Client({ connectionString: db.url });
    await client.connect();
    return client;
  };
  const claimIds = async (client: Client, max: number) =>
    (await client.query<{ id: string }>('select id from public.claim_status_events($1, 60)', [max])).rows.map((r) =>
      Number(r.id),
    );

  it('never gives two relays the same entry: skip locked while one claim is uncommitted, leases after', async () => {
    await store.applyStatusUpdatesWithEvents(Array.from({ length: 30 }, (_, i) => update(`m${i}`, 'sent', 0)));
    const [a, b] = [await connect(), await connect()];
    try {
      await a.query('begin');
      await b.query('begin');
      const fromA = await claimIds(a, 10);
      // A holds its rows' locks: B skips them rather than waiting, and takes the next ten.
      const fromB = await claimIds(b, 10);
      expect([fromA.length, fromB.length]).toEqual([10, 10]);
      expect(fromA.filter((id) => fromB.includes(id))).toEqual([]);
      await a.query('commit');
      await b.query('commit');
      // Committed leases: a third claim gets only the ten nobody holds.
      const rest = await store.claimStatusEvents(30, 60);
      expect(rest.map((r) => r.id).filter((id) => fromA.includes(id) || fromB.includes(id))).toEqual([]);
      expect(rest).toHaveLength(10);
    } finally {
      await a.end();
      await b.end();
    }
  });

  it('splits 200 entries among 8 relays claiming at once, each entry to exactly one', async () => {
    await db.executor.exec('truncate public.status_event_outbox');
    await store.applyStatusUpdatesWithEvents(Array.from({ length: 200 }, (_, i) => update(`c${i}`, 'sent', 0)));
    const clients = await Promise.all(Array.from({ length: 8 }, connect));
    try {
      const claims = await Promise.all(
        clients.map(async (client) => {
          const mine: number[] = [];
          for (let ids = await claimIds(client, 10); ids.length; ids = await claimIds(client, 10)) mine.push(...ids);
          return mine;
        }),
      );
      const all = claims.flat();
      expect(all).toHaveLength(200);
      expect(new Set(all).size).toBe(200);
    } finally {
      await Promise.all(clients.map((c) => c.end()));
    }
  });
});
