import fc from 'fast-check';
import { SqlTrackerStore } from '../../lambdas/store/sql-tracker-store';
import { availableEngines, createTestDatabase, type TestDatabase } from '../support/databases';
import { statusUpdateArbitrary } from '../support/generators';
import { readRows } from '../support/status-rows';

describe.each(availableEngines())('merge properties on %s', (engine) => {
  let db: TestDatabase;
  let store: SqlTrackerStore;

  beforeAll(async () => {
    db = await createTestDatabase(engine);
    store = new SqlTrackerStore(db.executor);
  });
  afterAll(() => db.drop());

  it('gives the same rows for any permutation, duplication and batching of a set of updates', async () => {
    const scenario = fc.array(statusUpdateArbitrary(), { minLength: 1, maxLength: 25 }).chain((updates) =>
      fc.record({
        updates: fc.constant(updates),
        order: fc.shuffledSubarray(updates, { minLength: updates.length, maxLength: updates.length }),
        duplicates: fc.array(fc.constantFrom(...updates), { maxLength: 10 }),
        batchSizes: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 10 }),
      }),
    );

    await fc.assert(
      fc.asyncProperty(scenario, async ({ updates, order, duplicates, batchSizes }) => {
        await db.executor.exec('truncate public.broadcasts_messages');
        await store.applyStatusUpdates(updates);
        const expected = await readRows(db.executor);

        await db.executor.exec('truncate public.broadcasts_messages');
        const arrivals = [...order, ...duplicates];
        for (let i = 0, b = 0; i < arrivals.length; b++) {
          const size = batchSizes[b % batchSizes.length] ?? 1;
          await store.applyStatusUpdates(arrivals.slice(i, i + size));
          i += size;
        }
        expect(await readRows(db.executor)).toEqual(expected);
      }),
      { numRuns: engine === 'postgres' ? 150 : 60 },
    );
  });

  it('never shows a later stage without the earlier ones', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(statusUpdateArbitrary(), { minLength: 1, maxLength: 15 }), async (updates) => {
        await db.executor.exec('truncate public.broadcasts_messages');
        await store.applyStatusUpdates(updates);
        for (const row of await readRows(db.executor)) {
          const s = row.status;
          if (s.played) expect(s.read).toBeDefined();
          if (s.read) expect(s.delivered).toBeDefined();
          if (s.delivered) expect(s.sent).toBeDefined();
          const order = [s.sent, s.delivered, s.read, s.played].filter(Boolean) as string[];
          expect([...order].sort()).toEqual(order);
        }
      }),
      { numRuns: 50 },
    );
  });
});
