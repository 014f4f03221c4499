import { createPostgresExecutor } from '../../lambdas/store/postgres-executor';
import { SqlStatusStore } from '../../lambdas/store/sql-status-store';
import type { StatusUpdate } from '../../lambdas/domain/status-update';
import { createTestDatabase, hasRealPostgres, type TestDatabase } from '../support/databases';
import { chunk, shuffled } from '../support/generators';
import { at, readRows } from '../support/status-rows';

/** PGlite serializes everything on one engine, so only a real server can show lost updates or deadlocks. */
const describeOnRealPostgres = hasRealPostgres() ? describe : describe.skip;

const STAGES = ['sent', 'delivered', 'read', 'played', 'failed'] as const;
const WORKERS = 4;

/** 3,000 updates over 150 messages: every message gets many stages and duplicates, from every worker. */
function workload(): StatusUpdate[] {
  const updates: StatusUpdate[] = [];
  for (let i = 0; i < 3000; i++) {
    const message = i % 150;
    const stage = STAGES[(i * 7 + Math.floor(i / 150)) % STAGES.length] ?? 'sent';
    updates.push({
      message_id: `wamid.c${message}`,
      status: stage,
      timestamp: at((i * 13) % 50),
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

  it(`${WORKERS} connections applying shuffled batches in parallel end with the rows of one sequential run`, async () => {
    const updates = workload();
    const sequential = new SqlStatusStore(db.executor);
    await db.executor.exec('truncate public.broadcasts_messages');
    await sequential.applyStatusUpdates(updates);
    const expected = await readRows(db.executor);
    expect(expected).toHaveLength(150);

    const stores = Array.from({ length: WORKERS }, () => new SqlStatusStore(createPostgresExecutor(db.url ?? '', { max: 1 })));
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
