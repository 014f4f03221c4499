/**
 * The rollups (supabase/migrations/0022, and 0026's for pricing_breakdown) against the rows: random messages, random status sequences applied in random
 * orders and batches by concurrent writers through apply_status_updates, then every rollup-based report and alarm
 * function must give the figures of its row-based original (test/support/row-based-reports.sql, schema `oracle`):
 * exactly, except the latency percentiles, which must be within their bin's width. Then the same after compaction
 * and after a rebuild; and after deleting or erasing rows, the rollup-based figures of whole-minute periods do not
 * change. The totals over every campaign and sender (0028) must equal the sum of the non-pending keyed rows of their
 * bucket at every moment, also while compaction folds a few buckets at a time and writers keep writing.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { Client } from 'pg';
import { seededRandom } from '../../tools/random';
import { createTestDatabase, hasRealPostgres, type TestDatabase } from '../support/databases';
import { npmRun, timeoutForRuns } from '../support/npm-run';

const describeOnRealPostgres = hasRealPostgres() ? describe : describe.skip;
const ORACLE = readFileSync(path.join(__dirname, '..', 'support', 'row-based-reports.sql'), 'utf8');
const TOTALS_MIGRATION = readFileSync(
  path.join(__dirname, '..', '..', 'supabase', 'migrations', '0028_rollup_totals.sql'),
  'utf8',
);

const BASE = Date.parse('2026-03-02T10:07:23.000Z'); // on no minute: the first bucket is a partial one
const at = (ms: number) => new Date(ms).toISOString();
const ERRORS = [
  { code: 131026, title: 'Message undeliverable' },
  { code: 131049, title: 'Healthy ecosystem engagement' },
  { code: 130472, title: "User's number is part of an experiment" },
  { title: 'No code' },
];
const SENDERS = [
  { sender_phone_number_id: '1001', sender_display_phone_number: '+91 98000 00001' },
  { sender_project_id: 'project-a' },
  {},
];

const PREFIXES = ['+9198', '+9170', '+1415', '+4477', '+97150'];
/** Meta's pricing object (https://developers.facebook.com/docs/whatsapp/pricing/updates-to-pricing/ : PMP since
 * July 2025, CBP before), some without `billable` (deprecated in newer API versions). */
const PRICINGS = [
  { billable: true, pricing_model: 'PMP', category: 'marketing', type: 'regular' },
  { billable: false, pricing_model: 'PMP', category: 'utility', type: 'free_customer_service' },
  { pricing_model: 'PMP', category: 'authentication', type: 'regular' },
  { billable: true, pricing_model: 'CBP', category: 'marketing' },
];

type Update = Record<string, unknown>;

/** One scenario's status updates, in the order they arrive. */
function scenario(seed: number): Update[] {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const updates: Update[] = [];
  const messages = 20 + Math.floor(random() * 40);
  for (let i = 0; i < messages; i++) {
    const id = `wamid.p${seed}.${i}`;
    const sent = BASE + Math.floor(random() * 3 * 3600) * 1000 + (random() < 0.2 ? Math.floor(random() * 1000) : 0);
    const delivered = sent + (random() < 0.5 ? Math.floor(random() * 60) : 60 + random() * 20_000) * 1000;
    const read = delivered + random() * 7_200_000;
    const common = { phone_number: `${pick(PREFIXES)}${String(i).padStart(8, '0')}`, ...pick(SENDERS) };
    const pricing = random() < 0.7 ? pick(PRICINGS) : undefined;
    const add = (status: string, time: number, extra: Update = {}) =>
      updates.push({
        message_id: id,
        status,
        timestamp: at(time),
        ...common,
        ...(random() < 0.6 ? { campaign: pick(['spring', 'summer', 'autumn']) } : {}),
        // Pricing comes with some statuses of a message, not all (a later status can bring it first).
        ...(pricing && random() < 0.6 ? { pricing } : {}),
        ...extra,
      });
    if (random() < 0.9) add('sent', sent);
    if (random() < 0.1) add('sent', sent + 5000); // a later duplicate: the earliest wins
    if (random() < 0.05) add('sent', delivered + 3000); // clock skew: sent after delivered, so it is inferred
    const reached = random();
    if (reached < 0.7) add('delivered', delivered);
    if (reached < 0.35) add('read', read);
    if (reached < 0.05) add('played', read + 10_000);
    if (random() < 0.15) {
      const error = pick(ERRORS);
      add('failed', sent + 2000 + Math.floor(random() * 600_000), { error });
      if (random() < 0.3) add('failed', sent + 1000, { error: pick(ERRORS) }); // an earlier failure replaces it
    }
  }
  // Random arrival order: a `sent` after its `delivered` moves the message to an earlier bucket.
  for (let i = updates.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [updates[i], updates[j]] = [updates[j]!, updates[i]!];
  }
  return updates;
}

/** Periods of every shape: over everything, whole quarters, whole minutes, odd seconds, inside a minute, empty. */
function periods(seed: number): Array<[string, string]> {
  const random = seededRandom(seed ^ 0x5eed);
  const odd = () => BASE - 600_000 + random() * 4 * 3600_000;
  const list: Array<[string, string]> = [
    [at(BASE - 3600_000), at(BASE + 8 * 3600_000)],
    ['2026-03-01T18:30:00.000Z', '2026-03-03T18:30:00.000Z'], // days in India: UTC days, hours and quarters
    ['2026-03-02T10:15:00.000Z', '2026-03-02T12:45:00.000Z'],
    ['2026-03-02T10:08:00.000Z', '2026-03-02T11:59:00.000Z'],
    ['2026-03-02T10:30:10.500Z', '2026-03-02T10:30:50.000Z'],
    ['2020-01-01T00:00:00.000Z', '2020-01-02T00:00:00.000Z'],
    ['2026-03-02T00:00:00.000Z', '2026-03-03T00:00:00.000Z'], // a whole UTC day
    ['2026-03-02T10:00:00.000Z', '2026-03-02T13:00:00.000Z'], // whole UTC hours
  ];
  for (let i = 0; i < 2; i++) {
    const [a, b] = [odd(), odd()].sort((x, y) => x - y) as [number, number];
    list.push([at(a), at(b)]);
  }
  return list;
}

const EXACT = [
  ...[
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ].map(([s, c]) => `delivery_report_by($1, $2, ${s}, ${c})`),
  'hourly_volume($1, $2)',
  'best_send_hours($1, $2, 0)',
  'best_send_hours($1, $2, 3)',
  'failures_by_error($1, $2)',
  "read_heatmap($1, $2, 'UTC')",
  "read_heatmap($1, $2, 'Asia/Kolkata')",
  'delay_distribution($1, $2)',
  'pricing_breakdown($1, $2)',
];
const HEALTH = 'delivery_health($1, $2, $3, $4, $5, $6, $7)';

/** Within the histogram's resolution: 1 s below a minute, ~9 % of the value above (see 0022). */
function expectClose(actual: unknown, expected: unknown, unitSeconds: number, label: string) {
  if (expected === null || actual === null) {
    expect({ label, actual }).toEqual({ label, actual: expected });
    return;
  }
  const exact = Number(expected) * unitSeconds;
  const tolerance = (1 + 0.1 * exact) / unitSeconds;
  if (Math.abs(Number(actual) - Number(expected)) > tolerance) {
    throw new Error(`${label}: ${actual} is not within ${tolerance} of ${expected}`);
  }
}

describeOnRealPostgres('rollups give the figures of the rows (property, real PostgreSQL)', () => {
  let db: TestDatabase;
  let writers: Client[];

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    await db.executor.exec(ORACLE);
    // Minute rows for every day: the test's days (March 2026) would otherwise be before the minute horizon.
    await db.executor.exec("update public.broadcasts_rollup_state set minute_horizon = '-infinity'");
    writers = await Promise.all(
      [0, 1, 2].map(async () => {
        const client = new Client({ connectionString: db.url });
        await client.connect();
        return client;
      }),
    );
  });
  afterAll(async () => {
    await Promise.all(writers.map((w) => w.end()));
    await db.drop();
  });

  const rows = async (sql: string, params: unknown[]) => (await db.executor.query(sql, params)).rows;

  async function figures(fn: string, period: unknown[], schema: 'public' | 'oracle') {
    return rows(`select * from ${schema}.${fn}`, period);
  }

  async function compareAll(seed: number) {
    for (const period of periods(seed)) {
      for (const fn of EXACT) {
        expect({ fn, period, rows: await figures(fn, period, 'public') }).toEqual({
          fn,
          period,
          rows: await figures(fn, period, 'oracle'),
        });
      }
      const [approx] = await figures('delay_percentiles($1, $2)', period, 'public');
      const [exact] = await figures('delay_percentiles($1, $2)', period, 'oracle');
      for (const key of ['delivery_p50_seconds', 'delivery_p90_seconds']) {
        expectClose(approx![key], exact![key], 1, `${key} ${period}`);
      }
      for (const key of ['read_p50_minutes', 'read_p90_minutes']) {
        expectClose(approx![key], exact![key], 60, `${key} ${period}`);
      }
    }
    const random = seededRandom(seed ^ 0xa1a);
    for (let i = 0; i < 2; i++) {
      const asOf = at(BASE + 1800_000 + random() * 4 * 3600_000);
      const windows = [asOf, 5 + Math.floor(random() * 60), Math.floor(random() * 30), 1 + Math.floor(random() * 48)];
      const params = [
        ...windows,
        Math.floor(random() * 200),
        1 + Math.floor(random() * 30),
        31 + Math.floor(random() * 90),
      ];
      const [approx] = await figures(HEALTH, params, 'public');
      const [exact] = await figures(HEALTH, params, 'oracle');
      expectClose(approx!.median_delivery_seconds, exact!.median_delivery_seconds, 1, `median ${params}`);
      expect({ params, ...approx, median_delivery_seconds: null }).toEqual({
        params,
        ...exact,
        median_delivery_seconds: null,
      });
    }
  }

  async function applyConcurrently(updates: Update[], seed: number) {
    const random = seededRandom(seed ^ 0xbad);
    const batches: Update[][] = [];
    for (let i = 0; i < updates.length; ) {
      const size = 1 + Math.floor(random() * 12);
      batches.push(updates.slice(i, i + size));
      i += size;
    }
    let next = 0;
    await Promise.all(
      writers.map(async (writer) => {
        while (next < batches.length) {
          const batch = batches[next++]!;
          await writer.query('select count(*) from public.apply_status_updates($1::jsonb)', [JSON.stringify(batch)]);
        }
      }),
    );
  }

  /** The rollups' content, summed per key: what every reader sees, whatever rows compaction folded. */
  const rollupContent = async () => ({
    main: await rows(
      `select grain, bucket_start, campaign, sender_key, sender_label, sum(messages) as messages, sum(sent) as sent,
              sum(delivered) as delivered, sum(read) as read, sum(played) as played, sum(failed) as failed,
              sum(failed_undelivered) as fu, sum(waiting) as waiting, trim_scale(sum(delivery_seconds_sum)) as ds,
              sum(delivery_samples) as dn, trim_scale(sum(read_minutes_sum)) as rs, sum(read_samples) as rn
         from public.broadcasts_rollup group by 1, 2, 3, 4, 5
        having (sum(messages), sum(sent), sum(delivered), sum(read), sum(played), sum(failed), sum(failed_undelivered),
                sum(waiting), sum(delivery_seconds_sum), sum(delivery_samples), sum(read_minutes_sum),
                sum(read_samples)) <> (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        order by 1, 2, 3, 4, 5`,
      [],
    ),
    detail: await rows(
      `select grain, bucket_start, campaign, sender_key, kind, code, title, sum(messages) as n, trim_scale(sum(total)) as total
         from public.broadcasts_rollup_detail group by 1, 2, 3, 4, 5, 6, 7
        having sum(messages) <> 0 or sum(total) <> 0 order by 1, 2, 3, 4, 5, 6, 7`,
      [],
    ),
    pricing: await rows(
      `select grain, bucket_start, campaign, pricing_category, pricing_type, pricing_model, pricing_billable,
              phone_prefix, sum(messages) as n
         from public.broadcasts_pricing_rollup group by 1, 2, 3, 4, 5, 6, 7, 8
        having sum(messages) <> 0 order by 1, 2, 3, 4, 5, 6, 7, 8`,
      [],
    ),
  });

  it('equal the row-based figures for any order, batching and concurrency of the updates; compaction and rebuild change nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 30 }), async (seed) => {
        await db.executor.exec('truncate public.broadcasts_messages');
        await applyConcurrently(scenario(seed), seed);
        await compareAll(seed);
        const kept = await rollupContent();
        await rows("select public.compact_rollups(interval '100 years')", []);
        expect(
          await rows(
            `select ((select count(*) from public.broadcasts_rollup where pending)
                     + (select count(*) from public.broadcasts_pricing_rollup where pending))::int as n`,
            [],
          ),
        ).toEqual([{ n: 0 }]);
        expect(await rollupContent()).toEqual(kept);
        expect(await totalsOutOfStep()).toEqual({ main: [], detail: [] });
        await rows('select public.rebuild_rollups()', []);
        expect(await rollupContent()).toEqual(kept);
        expect(await totalsOutOfStep()).toEqual({ main: [], detail: [] });
        // Minute rows dropped (the test's days are long past): the edges come from the rows, the figures stay.
        await rows('select public.compact_rollups()', []);
        expect(await totalsOutOfStep()).toEqual({ main: [], detail: [] });
        await compareAll(seed);
        await db.executor.exec("update public.broadcasts_rollup_state set minute_horizon = '-infinity'");
      }),
      { numRuns: 3 },
    );
  });

  const MEASURES = [
    'messages',
    'sent',
    'delivered',
    'read',
    'played',
    'failed',
    'fu',
    'waiting',
    'ds',
    'dn',
    'rs',
    'rn',
  ];
  /** Totals (0028) that differ from the sum of the non-pending keyed rows of their bucket: none, at every moment. */
  const totalsOutOfStep = async () => ({
    main: await rows(
      `with keyed as (
         select grain, bucket_start, sum(messages) as messages, sum(sent) as sent, sum(delivered) as delivered,
                sum(read) as read, sum(played) as played, sum(failed) as failed, sum(failed_undelivered) as fu,
                sum(waiting) as waiting, sum(delivery_seconds_sum) as ds, sum(delivery_samples) as dn,
                sum(read_minutes_sum) as rs, sum(read_samples) as rn
           from public.broadcasts_rollup where not pending group by 1, 2),
       totals as (
         select grain, bucket_start, sum(messages) as messages, sum(sent) as sent, sum(delivered) as delivered,
                sum(read) as read, sum(played) as played, sum(failed) as failed, sum(failed_undelivered) as fu,
                sum(waiting) as waiting, sum(delivery_seconds_sum) as ds, sum(delivery_samples) as dn,
                sum(read_minutes_sum) as rs, sum(read_samples) as rn
           from public.broadcasts_rollup_total group by 1, 2)
       select k.grain, k.bucket_start, t.grain as total_grain, t.bucket_start as total_bucket
         from keyed k full join totals t on t.grain = k.grain and t.bucket_start = k.bucket_start
        where ${MEASURES.map((m) => `coalesce(k.${m}, 0) <> coalesce(t.${m}, 0)`).join(' or ')}`,
      [],
    ),
    detail: await rows(
      `with keyed as (
         select grain, bucket_start, kind, code, title, sum(messages) as n, sum(total) as total
           from public.broadcasts_rollup_detail where not pending group by 1, 2, 3, 4, 5),
       totals as (
         select grain, bucket_start, kind, code, title, sum(messages) as n, sum(total) as total
           from public.broadcasts_rollup_total_detail group by 1, 2, 3, 4, 5)
       select k.grain, k.bucket_start, k.kind, k.code, t.grain as total_grain, t.bucket_start as total_bucket
         from keyed k full join totals t
           on (t.grain, t.bucket_start, t.kind) = (k.grain, k.bucket_start, k.kind)
          and t.code is not distinct from k.code and t.title is not distinct from k.title
        where coalesce(k.n, 0) <> coalesce(t.n, 0) or coalesce(k.total, 0) <> coalesce(t.total, 0)`,
      [],
    ),
  });

  it('reads a period in one snapshot: its readers are STABLE, so compaction moving the minute horizon between their statements changes nothing', async () => {
    // A VOLATILE plpgsql function takes a new snapshot per statement: a reader would then take its pieces before a
    // compaction and its rows after it (seen on purpose: 10 of 67 reads wrong beside a compactor). STABLE ones run
    // every statement, `return query execute` included, in the caller's snapshot.
    const readers = [
      'broadcasts_rollup_pieces',
      'rollup_range',
      'rollup_detail_range',
      'rollup_total_range',
      'rollup_total_detail_range',
      'pricing_rollup_range',
    ];
    const found = await rows(
      `select p.proname, p.provolatile from pg_proc p
        where p.pronamespace = 'public'::regnamespace and p.proname = any($1) order by 1`,
      [readers],
    );
    expect(found).toEqual([...readers].sort().map((proname) => ({ proname, provolatile: 's' })));
  });

  it('keeps the totals exact while compaction folds some buckets and writers keep writing', async () => {
    const compactor = new Client({ connectionString: db.url });
    await compactor.connect();
    try {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 30 }), async (seed) => {
          await db.executor.exec('truncate public.broadcasts_messages');
          const updates = scenario(seed);
          const half = Math.floor(updates.length / 2);
          await applyConcurrently(updates.slice(0, half), seed);
          // A few buckets at a time (small max_buckets) while three writers add the second half.
          let writing = true;
          let folds = 0;
          const compacting = (async () => {
            while (writing || folds < 2) {
              await compactor.query("select public.compact_rollups(interval '100 years', 7)");
              folds++;
            }
          })();
          await applyConcurrently(updates.slice(half), seed ^ 0x7);
          writing = false;
          await compacting;
          expect(await totalsOutOfStep()).toEqual({ main: [], detail: [] });
          const [mix] = await rows(
            `select count(*) filter (where pending)::int as pending, count(*) filter (where not pending)::int as folded
               from public.broadcasts_rollup`,
            [],
          );
          expect(mix!.pending).toBeGreaterThan(0);
          expect(mix!.folded).toBeGreaterThan(0);
          await compareAll(seed);
          await rows('select public.rebuild_rollups($1, $2)', ['2026-03-02T00:00:00Z', '2026-03-03T00:00:00Z']);
          expect(await totalsOutOfStep()).toEqual({ main: [], detail: [] });
          await compareAll(seed);
          // An upgrade (rollups there, totals not yet): running the migration again computes them.
          await db.executor.exec(
            'delete from public.broadcasts_rollup_total; delete from public.broadcasts_rollup_total_detail',
          );
          expect(await totalsOutOfStep()).not.toEqual({ main: [], detail: [] });
          await db.executor.exec(TOTALS_MIGRATION);
          expect(await totalsOutOfStep()).toEqual({ main: [], detail: [] });
        }),
        { numRuns: 2 },
      );
    } finally {
      await compactor.end();
    }
  });

  it('keeps the figures of whole-minute periods when rows are erased or deleted (erasure, retention)', async () => {
    const seed = 4242;
    await db.executor.exec('truncate public.broadcasts_messages');
    await applyConcurrently(scenario(seed), seed);
    const wholeMinutes = periods(seed).slice(0, 3);
    const before = [];
    for (const period of wholeMinutes) {
      for (const fn of [...EXACT, 'delay_percentiles($1, $2)']) before.push(await figures(fn, period, 'public'));
    }
    // Erasure anonymises (number and pricing cleared): the costs of the period stay where they were.
    const { rows: erased } = await db.executor.query(
      `select public.erase_recipient(p) as n from (select distinct phone_number as p from public.broadcasts_messages
        where message_id like '%2' or message_id like '%7') s`,
    );
    expect(erased.length).toBeGreaterThan(0);
    const { rows: deleted } = await db.executor.query(
      "delete from public.broadcasts_messages where message_id like '%1' or message_id like '%4' returning 1",
    );
    expect(deleted.length).toBeGreaterThan(0);
    await rows("select public.compact_rollups(interval '100 years')", []);
    const after = [];
    for (const period of wholeMinutes) {
      for (const fn of [...EXACT, 'delay_percentiles($1, $2)']) after.push(await figures(fn, period, 'public'));
    }
    expect(after).toEqual(before);
    // The rows themselves did change: the row-based figures move, the rollups remember.
    expect(await figures(EXACT[0]!, wholeMinutes[0]!, 'oracle')).not.toEqual(before[0]);
    const pricing = EXACT.indexOf('pricing_breakdown($1, $2)');
    expect(await figures(EXACT[pricing]!, wholeMinutes[0]!, 'oracle')).not.toEqual(before[pricing]);
  });

  it(
    'npm run rollups:rebuild puts lost rollups back from the rows, for a period or everything',
    async () => {
      const seed = 77;
      await db.executor.exec('truncate public.broadcasts_messages');
      await applyConcurrently(scenario(seed), seed);
      const period = ['2026-03-01T18:30:00.000Z', '2026-03-03T18:30:00.000Z'];
      const report = () => figures('delivery_report_by($1, $2, true, true)', period, 'public');
      const expected = await figures('delivery_report_by($1, $2, true, true)', period, 'oracle');
      expect(await report()).toEqual(expected);

      await db.executor.exec('delete from public.broadcasts_rollup; delete from public.broadcasts_rollup_detail');
      expect(await report()).not.toEqual(expected);
      const ranged = await npmRun(
        'rollups:rebuild',
        ['--from', '2026-03-02T00:00:00Z', '--to', '2026-03-03T00:00:00Z'],
        {
          DATABASE_URL: db.url ?? '',
        },
      );
      expect(ranged).toMatchObject({
        code: 0,
        stdout: expect.stringMatching(
          /^rollups of 2026-03-02T00:00:00.000Z to 2026-03-03T00:00:00.000Z rebuilt from the message rows in DATABASE_URL: \d+ rollup row\(s\)/,
        ),
      });
      expect(await report()).toEqual(expected);

      await db.executor.exec('delete from public.broadcasts_rollup');
      expect((await npmRun('rollups:rebuild', [], { DATABASE_URL: db.url ?? '' })).code).toBe(0);
      expect(await report()).toEqual(expected);
      expect((await npmRun('rollups:rebuild', ['--from', 'yesterday'])).code).toBe(2);
    },
    timeoutForRuns(3),
  );
});
