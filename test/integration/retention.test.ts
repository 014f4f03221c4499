import { Client } from 'pg';
import { DEFAULT_ALARMS, DEFAULT_COHORTS } from '../../lambdas/domain/alert-settings';
import { MIN_RETENTION_DAYS } from '../../lambdas/domain/retention';
import type { StatusUpdate } from '../../lambdas/domain/status-update';
import { SqlTrackerStore } from '../../lambdas/store/sql-tracker-store';
import { SupabaseTrackerStore } from '../../lambdas/store/supabase-tracker-store';
import { createSweeper } from '../../lambdas/sweeper/sweep-delivery-health';
import { measureMessageStorage } from '../../scripts/message-storage';
import { createTestDatabase, hasRealPostgres, type TestDatabase } from '../support/databases';
import { startPostgrestRpcServer } from '../support/postgrest-rpc-server';
import { capturingMetrics, silentLogger } from '../support/powertools';

const DAY = 86_400_000;
const NOW = new Date('2026-03-02T12:00:00.000Z');
const CUTOFF = new Date(NOW.getTime() - 30 * DAY);
const at = (ms: number) => new Date(ms).toISOString();

/** `count` messages sent `daysAgo` days before NOW (a second apart), delivered 5 s later. */
const sentDaysAgo = (prefix: string, daysAgo: number, count: number): StatusUpdate[] =>
  Array.from({ length: count }, (_, i) => {
    const sent = NOW.getTime() - daysAgo * DAY + i * 1_000;
    return [
      { message_id: `${prefix}.${i}`, status: 'sent' as const, timestamp: at(sent) },
      { message_id: `${prefix}.${i}`, status: 'delivered' as const, timestamp: at(sent + 5_000) },
    ];
  }).flat();

(hasRealPostgres() ? describe : describe.skip)('delete_expired_messages on real PostgreSQL', () => {
  let db: TestDatabase;
  let store: SqlTrackerStore;
  const ids = async () =>
    (
      await db.executor.query<{ message_id: string }>(
        'select message_id from public.broadcasts_messages order by message_id',
      )
    ).rows.map((r) => r.message_id);

  beforeEach(async () => {
    db = await createTestDatabase('postgres');
    store = new SqlTrackerStore(db.executor);
  });
  afterEach(() => db.drop());

  it('deletes the messages sent before the cutoff, a bounded batch at a time, and keeps the newer ones', async () => {
    await store.applyStatusUpdates([...sentDaysAgo('old', 40, 25), ...sentDaysAgo('new', 29, 5)]);
    // A failure with no sent time expires by its failure time; one failed recently stays.
    await store.applyStatusUpdates([
      { message_id: 'failed.old', status: 'failed', timestamp: at(NOW.getTime() - 31 * DAY) },
      { message_id: 'failed.new', status: 'failed', timestamp: at(NOW.getTime() - 1 * DAY) },
    ]);

    const batches: number[] = [];
    for (;;) {
      const n = await store.deleteExpiredMessages(CUTOFF, 10);
      batches.push(n);
      if (n < 10) break;
    }
    expect(batches).toEqual([10, 10, 6]); // 25 sent, then the old failure
    expect(await ids()).toEqual(['failed.new', 'new.0', 'new.1', 'new.2', 'new.3', 'new.4']);
    // Idempotent: nothing more to delete, however often it runs.
    expect(await store.deleteExpiredMessages(CUTOFF, 10)).toBe(0);
    expect(await store.expiredMessagesRemaining(CUTOFF, 1_000)).toBe(0);
  });

  it('deletes the oldest first and counts what remains up to a cap', async () => {
    await store.applyStatusUpdates([...sentDaysAgo('a', 50, 10), ...sentDaysAgo('b', 35, 10)]);
    expect(await store.expiredMessagesRemaining(CUTOFF, 1_000)).toBe(20);
    expect(await store.expiredMessagesRemaining(CUTOFF, 7)).toBe(7);
    expect(await store.deleteExpiredMessages(CUTOFF, 10)).toBe(10);
    expect((await ids()).every((id) => id.startsWith('b.'))).toBe(true);
  });

  it('refuses a batch size out of range', async () => {
    await expect(store.deleteExpiredMessages(CUTOFF, 0)).rejects.toThrow(/batch_size must be 1 to 10000/);
    await expect(store.deleteExpiredMessages(CUTOFF, 10_001)).rejects.toThrow(/batch_size must be 1 to 10000/);
  });

  it('refuses a cutoff nearer than the shortest retentionDays (a date in the future, a typo in the year), before deleting anything', async () => {
    // The database's clock, not this host's: the messages are sent relative to it.
    const dbNow = new Date((await db.executor.query<{ now: Date }>('select now() as now')).rows[0]!.now).getTime();
    const sent = (prefix: string, daysAgo: number) =>
      [0, 1].map((i) => ({
        message_id: `${prefix}.${i}`,
        status: 'sent' as const,
        timestamp: at(dbNow - daysAgo * DAY + i * 1_000),
      }));
    await store.applyStatusUpdates([...sent('recent', 2), ...sent('old', 400)]);
    const state = async () =>
      (
        await db.executor.query<{ deleted_before: Date }>(
          'select deleted_before from public.broadcasts_retention_state',
        )
      ).rows;

    for (const cutoff of [
      new Date(dbNow + 365 * DAY), // 2027 for 2026
      new Date(dbNow),
      new Date(dbNow - (MIN_RETENTION_DAYS - 1) * DAY),
    ]) {
      await expect(store.deleteExpiredMessages(cutoff, 10)).rejects.toMatchObject({
        code: '22023',
        message: expect.stringMatching(/less than 7 days before now.*refused, nothing deleted/),
      });
    }
    expect(await ids()).toEqual(['old.0', 'old.1', 'recent.0', 'recent.1']);
    expect(await state()).toEqual([]);
    // Nor can the state row be set by hand to such a cutoff.
    await expect(
      db.executor.query(`insert into public.broadcasts_retention_state (deleted_before) values (now())`),
    ).rejects.toMatchObject({ code: '22023' });

    // The shortest period the stack accepts is allowed, and the cutoff still moves forward from there.
    expect(await store.deleteExpiredMessages(new Date(dbNow - 365 * DAY), 10)).toBe(2);
    expect(await store.deleteExpiredMessages(new Date(dbNow - MIN_RETENTION_DAYS * DAY), 10)).toBe(0);
    expect(await ids()).toEqual(['recent.0', 'recent.1']);
    await expect(store.deleteExpiredMessages(new Date(dbNow), 10)).rejects.toMatchObject({ code: '22023' });
    expect(new Date((await state())[0]!.deleted_before).getTime()).toBe(dbNow - MIN_RETENTION_DAYS * DAY);
  });

  it('is measured by npm run db:storage, which deletes every message it generated', async () => {
    const measured = await measureMessageStorage(process.env.TEST_DATABASE_URL!, 300);
    expect(measured).toMatchObject({ messages: 300, deleteBatchSize: 1_000 });
    expect(measured.deletedPerSecond).toBeGreaterThan(0);
  });

  it('skips a row another transaction holds, instead of waiting for it, and takes it on a later call', async () => {
    await store.applyStatusUpdates(sentDaysAgo('held', 40, 3));
    const other = new Client({ connectionString: db.url });
    await other.connect();
    try {
      await other.query('begin');
      await other.query(`select 1 from public.broadcasts_messages where message_id = 'held.0' for update`);
      expect(await store.deleteExpiredMessages(CUTOFF, 10)).toBe(2);
      await other.query('commit');
      expect(await store.deleteExpiredMessages(CUTOFF, 10)).toBe(1);
    } finally {
      await other.end();
    }
  });

  it('deletes the same through Supabase rpc', async () => {
    await store.applyStatusUpdates([...sentDaysAgo('old', 40, 3), ...sentDaysAgo('new', 1, 2)]);
    const rest = await startPostgrestRpcServer(db.executor, 'key');
    const rpc = new SupabaseTrackerStore({ url: rest.url, serviceRoleKey: 'key' });
    try {
      expect(await rpc.expiredMessagesRemaining(CUTOFF, 100)).toBe(3);
      expect(await rpc.deleteExpiredMessages(CUTOFF, 2)).toBe(2);
      expect(await rpc.deleteExpiredMessages(CUTOFF, 2)).toBe(1);
      expect(await ids()).toEqual(['new.0', 'new.1']);
      // The API answers a refused cutoff with its reason and code.
      await expect(rpc.deleteExpiredMessages(new Date(Date.now() + DAY), 2)).rejects.toMatchObject({
        code: '22023',
        message: expect.stringContaining('refused, nothing deleted'),
      });
    } finally {
      await rpc.close();
      await rest.close();
    }
  });

  it('leaves the rollups: a report of a deleted period still counts its messages, after compaction by either adapter', async () => {
    // Sent, then delivered in a second call: each bucket gets a row per call, which compaction folds into one.
    const updates = [...sentDaysAgo('old', 40, 3), ...sentDaysAgo('new', 1, 2)];
    await store.applyStatusUpdates(updates.filter((u) => u.status === 'sent'));
    await store.applyStatusUpdates(updates.filter((u) => u.status === 'delivered'));
    const pending = async () =>
      Number(
        (await db.executor.query<{ n: string }>('select count(*) as n from public.broadcasts_rollup where pending'))
          .rows[0]?.n,
      );
    expect(await pending()).toBeGreaterThan(0);
    const rest = await startPostgrestRpcServer(db.executor, 'key');
    const rpc = new SupabaseTrackerStore({ url: rest.url, serviceRoleKey: 'key' });
    try {
      expect(await rpc.compactRollups()).toBeGreaterThan(0);
    } finally {
      await rpc.close();
      await rest.close();
    }
    expect(await pending()).toBe(0);
    expect(await store.compactRollups()).toBe(0); // nothing left to fold

    expect(await store.deleteExpiredMessages(CUTOFF, 100)).toBe(3);
    const oldDays = await store.deliverySummary(new Date(NOW.getTime() - 41 * DAY), new Date(NOW.getTime() - 39 * DAY));
    expect([oldDays.total_messages, oldDays.delivered]).toEqual([3, 3]);
  });

  it('is run by the sweeper within its budget, and the next run finishes the job', async () => {
    await store.applyStatusUpdates(sentDaysAgo('old', 40, 30));
    let clock = 0;
    const sweepOnce = async () => {
      const capture = capturingMetrics();
      try {
        await createSweeper({
          store: () => ({
            ...{ deliveryHealth: store.deliveryHealth.bind(store), deliverySummary: store.deliverySummary.bind(store) },
            expiredMessagesRemaining: store.expiredMessagesRemaining.bind(store),
            // Each batch "takes" 1 s on the sweeper's clock.
            deleteExpiredMessages: async (olderThan: Date, size: number) => {
              clock += 1_000;
              return store.deleteExpiredMessages(olderThan, size);
            },
          }),
          metrics: capture.metrics,
          logger: silentLogger(),
          cohorts: DEFAULT_COHORTS,
          failureSpike: DEFAULT_ALARMS.failureSpike,
          now: () => NOW,
          clock: () => clock,
          retention: { days: 30, batchSize: 10, budgetMs: 2_000 },
        })({ kind: 'health' });
        return capture.values('RetentionDeletedMessages').map((v) => v.value);
      } finally {
        capture.restore();
      }
    };
    expect(await sweepOnce()).toEqual([20]); // two batches fit in 2 s
    expect(await store.expiredMessagesRemaining(CUTOFF, 100)).toBe(10);
    expect(await sweepOnce()).toEqual([10]);
    expect(await sweepOnce()).toEqual([0]);
    expect(await ids()).toEqual([]);
  });
});
