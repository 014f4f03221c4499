import type { StatusUpdate } from '../../lambdas/domain/status-update';
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
});
