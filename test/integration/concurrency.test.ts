import { Client } from 'pg';
import type { StatusTimes, StatusUpdate } from '../../lambdas/domain/status-update';
import { createPostgresExecutor } from '../../lambdas/store/postgres-executor';
import { SqlTrackerStore } from '../../lambdas/store/sql-tracker-store';
import { chunk } from '../../testkit/lists';
import { createTestDatabase, hasRealPostgres, type TestDatabase } from '../support/databases';
import { shuffled } from '../support/generators';
import { at, readRows } from '../support/status-rows';

/** PGlite serializes everything on one engine, so only a real server can show lost updates or deadlocks. */
const describeOnRealPostgres = hasRealPostgres() ? describe : describe.skip;

const STAGES = ['sent', 'delivered', 'read', 'played', 'failed'] as const;
const WORKERS = 4;

/**
 * 3,000 updates over 150 messages: every message gets 20 updates, each of the 5 stages 4 times, each time at a
 * different second (so the merge's choice between them shows: a lost update of a time or a last-writer-wins merge
 * leaves a later time than the earliest), from every worker.
 */
function workload(): StatusUpdate[] {
  const updates: StatusUpdate[] = [];
  for (let i = 0; i < 3000; i++) {
    const message = i % 150;
    const round = Math.floor(i / 150);
    const stage = STAGES[(i * 7 + round) % STAGES.length] ?? 'sent';
    updates.push({
      message_id: `wamid.c${message}`,
      status: stage,
      // Rounds r, r+5, r+10, r+15 carry the same stage: 17·5 = 85 s apart, so never the same second.
      timestamp: at((message * 13 + round * 17) % 600),
      ...(stage === 'failed' ? { error: { code: 131000 + (i % 3) } } : {}),
      ...(i % 5 === 0 ? { phone_number: `+9100${message}` } : {}),
    });
  }
  return updates;
}

describeOnRealPostgres('concurrent writers on real PostgreSQL', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('postgres');
  });
  afterAll(() => db.drop());

  it('gives every stage of every message 4 different times (what lets the next test see which one was kept)', () => {
    const times = new Map<string, Set<string>>();
    for (const u of workload()) {
      const key = `${u.message_id} ${u.status}`;
      times.set(key, (times.get(key) ?? new Set()).add(u.timestamp));
    }
    expect(times.size).toBe(150 * STAGES.length);
    expect([...times.values()].every((t) => t.size === 4)).toBe(true);
  });

  it(`${WORKERS} connections applying shuffled batches in parallel end with the rows of one sequential run`, async () => {
    const updates = workload();
    const sequential = new SqlTrackerStore(db.executor);
    await db.executor.exec('truncate public.broadcasts_messages');
    await sequential.applyStatusUpdates(updates);
    const expected = await readRows(db.executor);
    expect(expected).toHaveLength(150);

    const stores = Array.from(
      { length: WORKERS },
      () => new SqlTrackerStore(createPostgresExecutor(db.url ?? '', { max: 1 })),
    );
    try {
      for (let round = 1; round <= 5; round++) {
        await db.executor.exec('truncate public.broadcasts_messages');
        // Each worker gets every update in its own order and batching: maximal overlap on the same rows.
        await Promise.all(
          stores.map((store, w) =>
            (async () => {
              for (const batch of chunk(shuffled(updates, round * 100 + w), 20 + w * 15)) {
                await store.applyStatusUpdates(batch);
              }
            })(),
          ),
        );
        expect(await readRows(db.executor)).toEqual(expected);
      }
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  /**
   * Two sessions: the first holds `hold` open while the second applies `second` and waits for the row, then commits.
   * The second session reads times in a non-ISO DateStyle and another zone, as a careless client might: the result
   * must not depend on them.
   */
  async function whileAnotherWriterWaits(hold: (holder: Client) => Promise<unknown>, second: StatusUpdate[]) {
    const holder = new Client({ connectionString: db.url });
    const waiter = new Client({ connectionString: db.url });
    await Promise.all([holder.connect(), waiter.connect()]);
    try {
      await waiter.query("set datestyle = 'Postgres, MDY'; set timezone = 'Asia/Kolkata'");
      await holder.query('begin');
      await hold(holder);
      const waiterPid = (await waiter.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
      const waiting = waiter.query<{ inserted: boolean; previous_status: StatusTimes | null; status: StatusTimes }>(
        'select inserted, previous_status, status from public.apply_status_updates_with_events($1::jsonb)',
        [JSON.stringify(second)],
      );
      // The second call has taken its snapshot and is blocked on the first one's row (or its uncommitted insert).
      for (let i = 0; ; i++) {
        const { rows } = await db.executor.query<{ type: string | null }>(
          'select wait_event_type as type from pg_stat_activity where pid = $1',
          [waiterPid],
        );
        if (rows[0]?.type === 'Lock') break;
        if (i > 200) throw new Error('the second writer never waited for the first');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await holder.query('commit');
      return (await waiting).rows;
    } finally {
      await Promise.all([holder.end(), waiter.end()]);
    }
  }
  const applying = (updates: StatusUpdate[]) => (holder: Client) =>
    holder.query('select * from public.apply_status_updates_with_events($1::jsonb)', [JSON.stringify(updates)]);

  const outboxChain = async (messageId: string) =>
    (
      await db.executor.query<{ inserted: boolean; previous_status: StatusTimes | null; status: StatusTimes }>(
        'select inserted, previous_status, status from public.status_event_outbox where message_id = $1 order by id',
        [messageId],
      )
    ).rows;

  it('reports as previous status what a writer that committed while this call waited for the row left', async () => {
    await db.executor.exec('truncate public.broadcasts_messages, public.status_event_outbox');
    await new SqlTrackerStore(db.executor).applyStatusUpdates([
      { message_id: 'wamid.r', status: 'sent', timestamp: at(0) },
    ]);
    const rows = await whileAnotherWriterWaits(
      applying([{ message_id: 'wamid.r', status: 'delivered', timestamp: at(5) }]),
      [{ message_id: 'wamid.r', status: 'read', timestamp: at(9) }],
    );
    expect(rows).toEqual([
      {
        inserted: false,
        previous_status: { sent: at(0), delivered: at(5) },
        status: { sent: at(0), delivered: at(5), read: at(9) },
      },
    ]);
    expect((await outboxChain('wamid.r')).map((e) => e.previous_status)).toEqual([
      { sent: at(0) },
      { sent: at(0), delivered: at(5) },
    ]);
  });

  it('reports the first status of a message another writer inserted while this call waited as its previous status', async () => {
    await db.executor.exec('truncate public.broadcasts_messages, public.status_event_outbox');
    const rows = await whileAnotherWriterWaits(
      applying([{ message_id: 'wamid.n', status: 'sent', timestamp: at(0) }]),
      [{ message_id: 'wamid.n', status: 'delivered', timestamp: at(4) }],
    );
    expect(rows).toEqual([
      { inserted: false, previous_status: { sent: at(0) }, status: { sent: at(0), delivered: at(4) } },
    ]);
    expect(await outboxChain('wamid.n')).toEqual([
      { inserted: true, previous_status: null, status: { sent: at(0) } },
      { inserted: false, previous_status: { sent: at(0) }, status: { sent: at(0), delivered: at(4) } },
    ]);
  });

  it('reports a message whose row a delete removed while this call waited as new, with no status before', async () => {
    await db.executor.exec('truncate public.broadcasts_messages, public.status_event_outbox');
    await new SqlTrackerStore(db.executor).applyStatusUpdates([
      { message_id: 'wamid.d', status: 'read', timestamp: at(7) },
    ]);
    const rows = await whileAnotherWriterWaits(
      (holder) => holder.query("delete from public.broadcasts_messages where message_id = 'wamid.d'"),
      [{ message_id: 'wamid.d', status: 'sent', timestamp: at(1) }],
    );
    expect(rows).toEqual([{ inserted: true, previous_status: null, status: { sent: at(1) } }]);
  });

  it(`${WORKERS} connections with events on: each message's outbox entries form one chain, each from where the last ended`, async () => {
    const updates = workload();
    const stores = Array.from(
      { length: WORKERS },
      () => new SqlTrackerStore(createPostgresExecutor(db.url ?? '', { max: 1 })),
    );
    try {
      await db.executor.exec('truncate public.broadcasts_messages, public.status_event_outbox');
      await Promise.all(
        stores.map((store, w) =>
          (async () => {
            for (const batch of chunk(shuffled(updates, 700 + w), 10 + w * 5)) {
              await store.applyStatusUpdatesWithEvents(batch);
            }
          })(),
        ),
      );
      const { rows } = await db.executor.query<{
        message_id: string;
        inserted: boolean;
        previous_status: StatusTimes | null;
        status: StatusTimes;
      }>('select message_id, inserted, previous_status, status from public.status_event_outbox order by id');
      const last = new Map<string, StatusTimes>();
      const breaks: string[] = [];
      for (const entry of rows) {
        const before = last.get(entry.message_id) ?? null;
        if (JSON.stringify(entry.previous_status) !== JSON.stringify(before) || entry.inserted !== (before === null))
          breaks.push(
            `${entry.message_id}: from ${JSON.stringify(entry.previous_status)} after ${JSON.stringify(before)}`,
          );
        last.set(entry.message_id, entry.status);
      }
      expect(breaks).toEqual([]);
      // The last link of every chain is the row as stored.
      const stored = await db.executor.query<{ message_id: string; status: StatusTimes }>(
        'select message_id, status from public.broadcasts_messages',
      );
      expect(stored.rows).toHaveLength(150);
      for (const row of stored.rows) expect(last.get(row.message_id)).toEqual(row.status);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });
});
