import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { applyMigrations, MIGRATIONS_DIR } from '../../db/migrations';
import { CohortSettings, DEFAULT_COHORTS, healthWindows } from '../../lambdas/domain/alert-settings';
import type { StatusUpdate } from '../../lambdas/domain/status-update';
import { healthArguments } from '../../lambdas/store/health-store';
import { SqlTrackerStore } from '../../lambdas/store/sql-tracker-store';
import { SupabaseTrackerStore } from '../../lambdas/store/supabase-tracker-store';
import { createTestDatabase, hasRealPostgres, type TestDatabase } from '../support/databases';
import { startPostgrestRpcServer } from '../support/postgrest-rpc-server';

const AS_OF = new Date('2026-03-02T12:00:00.000Z');
const DEFAULT_WINDOWS = healthWindows(DEFAULT_COHORTS);
const WIDE_WINDOWS = healthWindows(
  CohortSettings.parse({ deliveryWindowMinutes: 240, undeliveredWithinMinutes: 600, readWindowHours: 30 }),
);

/** A small seeded generator (mulberry32), so a failure can be replayed. */
function random(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * Messages of four senders over the last 32 hours: two Meta numbers, an AiSensy project (some of whose messages also
 * carry a Meta number, so they count under that number: a message's sender is its phone number id, else its
 * project), one sender nobody lists, and messages with no sender at all.
 */
function messages(seed: number, count: number, asOf = AS_OF): StatusUpdate[] {
  const next = random(seed);
  const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!;
  const senders: Pick<StatusUpdate, 'sender_phone_number_id' | 'sender_project_id'>[] = [
    { sender_phone_number_id: '106540352242922' },
    { sender_phone_number_id: '201111111111111' },
    { sender_project_id: 'aisensy-project-1' },
    { sender_phone_number_id: '201111111111111', sender_project_id: 'aisensy-project-1' },
    { sender_phone_number_id: '999999999999999' },
    {},
  ];
  const at = (ms: number) => new Date(ms).toISOString();
  const updates: StatusUpdate[] = [];
  for (let i = 0; i < count; i++) {
    const message_id = `wamid.s${seed}.${i}`;
    const sender = pick(senders);
    const sent = asOf.getTime() - Math.floor(next() * 32 * 3_600_000);
    const base = { message_id, ...sender };
    const fate = next();
    if (fate < 0.05) {
      // failed without a sent status
      updates.push({ ...base, status: 'failed', timestamp: at(sent), error: { code: pick([131026, 131049]) } });
      continue;
    }
    updates.push({ ...base, status: 'sent', timestamp: at(sent) });
    const delivered = sent + Math.floor(next() * 120_000);
    if (fate < 0.2) {
      const code = pick([131026, 131049, 131047]);
      updates.push({ ...base, status: 'failed', timestamp: at(delivered), error: { code, title: `error ${code}` } });
    } else if (fate < 0.35) {
      // never heard of again: undelivered
    } else if (fate < 0.55) {
      updates.push({ ...base, status: 'read', timestamp: at(delivered + 60_000) }); // delivered inferred
    } else {
      updates.push({ ...base, status: 'delivered', timestamp: at(delivered) });
      if (next() < 0.5) updates.push({ ...base, status: 'read', timestamp: at(delivered + 3_600_000) });
    }
  }
  return updates;
}

const LISTED = ['106540352242922', '201111111111111', 'aisensy-project-1', 'nobody-sends-from-here'];

(hasRealPostgres() ? describe : describe.skip)('delivery_health_by_sender on real PostgreSQL', () => {
  let db: TestDatabase;
  let store: SqlTrackerStore;
  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    store = new SqlTrackerStore(db.executor);
    await store.applyStatusUpdates(messages(7, 1_500));
  });
  afterAll(() => db.drop());

  /**
   * delivery_health over only the rows of one sender (phone number id, else project id): the others deleted inside a
   * transaction rolled back, and the rollups delivery_health reads rebuilt from the rows left (deletes alone leave the
   * rollups as they were).
   */
  async function healthOfOnly(senderId: string, windows: typeof DEFAULT_WINDOWS, on = db, asOf = AS_OF) {
    const client = new Client({ connectionString: on.url });
    await client.connect();
    try {
      await client.query('begin');
      await client.query(
        'delete from public.broadcasts_messages where coalesce(sender_phone_number_id, sender_project_id) is distinct from $1',
        [senderId],
      );
      await client.query('select public.rebuild_rollups()');
      const { rows } = await client.query(
        'select * from public.delivery_health($1, $2, $3, $4, $5, $6, $7)',
        Object.values(healthArguments(windows, asOf)),
      );
      return rows[0] as Record<string, unknown>;
    } finally {
      await client.query('rollback');
      await client.end();
    }
  }

  it.each([
    ['the default windows', DEFAULT_WINDOWS],
    ['wide windows', WIDE_WINDOWS],
  ])(
    "gives each listed sender exactly delivery_health's figures over that sender's rows alone (%s)",
    async (_, windows) => {
      const { rows } = await db.executor.query(
        'select * from public.delivery_health_by_sender($1, $2, $3, $4, $5, $6, $7, $8)',
        [...Object.values(healthArguments(windows, AS_OF)), LISTED],
      );
      expect(rows.map((r) => (r as { sender_id: string }).sender_id)).toEqual(LISTED);
      // Both read the rollups (the median from the same per-sender delay histogram), so every figure is equal.
      for (const row of rows as Record<string, unknown>[]) {
        const { sender_id, ...figures } = row;
        expect([sender_id, figures]).toEqual([sender_id, await healthOfOnly(String(sender_id), windows)]);
      }
      // The data is not trivial: the wide windows see failures, reads and waiting messages for the listed senders.
      if (windows === WIDE_WINDOWS) {
        const first = rows[0] as Record<string, string | number>;
        expect(Number(first.cohort_failed)).toBeGreaterThan(0);
        expect(Number(first.read_cohort_read)).toBeGreaterThan(0);
        expect(Number(first.undelivered_count)).toBeGreaterThan(0);
      }
    },
  );

  it('computes only the senders asked for, each once, in the order given, and nothing for an empty list', async () => {
    const rows = await store.deliveryHealthBySender(
      WIDE_WINDOWS,
      ['aisensy-project-1', '106540352242922', 'aisensy-project-1', ''],
      AS_OF,
    );
    expect(rows.map((r) => r.sender_id)).toEqual(['aisensy-project-1', '106540352242922']);
    expect(await store.deliveryHealthBySender(WIDE_WINDOWS, [], AS_OF)).toEqual([]);
    const [unknown] = await store.deliveryHealthBySender(WIDE_WINDOWS, ['nobody-sends-from-here'], AS_OF);
    expect(unknown).toMatchObject({ cohort_sent: 0, delivery_rate_percent: null, top_error_code: null });
  });

  it('gives every figure right after an upgrade from 0026, whose delay histograms had no sender (0030 recomputes them)', async () => {
    // A database at 0026 with a day and a half of messages up to now, partly compacted, then 0027 onwards.
    const asOf = new Date();
    const upTo0026 = await mkdtemp(path.join(tmpdir(), 'migrations-0026-'));
    const upgraded = await createTestDatabase('postgres', {
      beforeMigrations: async (executor) => {
        for (const file of await readdir(MIGRATIONS_DIR))
          if (file < '0027') await copyFile(path.join(MIGRATIONS_DIR, file), path.join(upTo0026, file));
        await applyMigrations(executor, upTo0026);
        await new SqlTrackerStore(executor).applyStatusUpdates(messages(11, 1_200, asOf));
        await executor.query('select public.compact_rollups()');
      },
    });
    try {
      // After the upgrade: new messages, and late `sent` statuses that move older messages' delays to other bins.
      const later = messages(12, 300, asOf).map((u) => ({ ...u, message_id: `${u.message_id}.after` }));
      const lateSent = messages(11, 1_200, asOf)
        .filter((u) => u.status === 'sent')
        .slice(0, 200)
        .map((u) => ({ ...u, timestamp: new Date(Date.parse(u.timestamp) - 30_000).toISOString() }));
      await new SqlTrackerStore(upgraded.executor).applyStatusUpdates([...later, ...lateSent]);
      const { rows } = await upgraded.executor.query(
        'select * from public.delivery_health_by_sender($1, $2, $3, $4, $5, $6, $7, $8)',
        [...Object.values(healthArguments(WIDE_WINDOWS, asOf)), LISTED],
      );
      for (const row of rows as Record<string, unknown>[]) {
        const { sender_id, ...figures } = row;
        expect([sender_id, figures]).toEqual([
          sender_id,
          await healthOfOnly(String(sender_id), WIDE_WINDOWS, upgraded, asOf),
        ]);
      }
      expect(Number((rows[0] as Record<string, string>).delivery_latency_samples)).toBeGreaterThan(0);
    } finally {
      await upgraded.drop();
      await rm(upTo0026, { recursive: true, force: true });
    }
  });

  it('gives the same rows through Supabase rpc as through SQL', async () => {
    const key = 'test-service-role-key';
    const rest = await startPostgrestRpcServer(db.executor, key);
    const rpc = new SupabaseTrackerStore({ url: rest.url, serviceRoleKey: key });
    try {
      const overRpc = await rpc.deliveryHealthBySender(WIDE_WINDOWS, LISTED, AS_OF);
      expect(overRpc).toEqual(await store.deliveryHealthBySender(WIDE_WINDOWS, LISTED, AS_OF));
      expect(rest.requests.at(-1)?.path).toBe('/rest/v1/rpc/delivery_health_by_sender');
    } finally {
      await rpc.close();
      await rest.close();
    }
  });
});
