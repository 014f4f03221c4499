import { Client } from 'pg';
import {
  CohortSettings,
  cohortInstant,
  DEFAULT_ALARMS,
  DEFAULT_COHORTS,
  healthWindows,
} from '../../lambdas/domain/alert-settings';
import type { StatusUpdate } from '../../lambdas/domain/status-update';
import { SqlTrackerStore } from '../../lambdas/store/sql-tracker-store';
import type { SummaryNotifier } from '../../lambdas/sweeper/summary-notifier';
import { createSweeper } from '../../lambdas/sweeper/sweep-delivery-health';
import { availableEngines, createTestDatabase, hasRealPostgres, type TestDatabase } from '../support/databases';
import { capturingMetrics, silentLogger } from '../support/powertools';

const AS_OF = new Date('2024-06-01T12:00:00.000Z');
/** Wide windows so the hand computation below stays readable (the defaults are narrower). */
const COHORTS = CohortSettings.parse({
  deliveryWindowMinutes: 60,
  deliveryGraceMinutes: 10,
  readWindowHours: 24,
  readGraceMinutes: 60,
  undeliveredAfterMinutes: 10,
  undeliveredWithinMinutes: 1_440,
});
const WINDOWS = healthWindows(COHORTS);
const sweeperSettings = { cohorts: COHORTS, failureSpike: DEFAULT_ALARMS.failureSpike };
const u = (message_id: string, status: StatusUpdate['status'], timestamp: string): StatusUpdate => ({
  message_id,
  status,
  timestamp,
});

/**
 * A data set whose expected figures are worked out by hand below (delivery cohort = sent in [10:50, 11:50),
 * read cohort = sent in [May 31 11:00, June 1 11:00), undelivered = sent in [May 31 12:00, 11:50)).
 */
const DATA: StatusUpdate[] = [
  u('m1', 'sent', '2024-06-01T11:00:00.000Z'),
  u('m1', 'delivered', '2024-06-01T11:00:05.000Z'), // delivered, 5 s
  u('m2', 'sent', '2024-06-01T11:10:00.000Z'),
  u('m2', 'delivered', '2024-06-01T11:10:15.000Z'), // delivered, 15 s
  u('m3', 'sent', '2024-06-01T11:20:00.000Z'),
  u('m3', 'read', '2024-06-01T11:30:00.000Z'), // delivered inferred: no sample
  u('m4', 'sent', '2024-06-01T11:30:00.000Z'),
  { ...u('m4', 'failed', '2024-06-01T11:31:00.000Z'), error: { code: 131049, title: 'ecosystem' } }, // failed
  u('m5', 'sent', '2024-06-01T11:40:00.000Z'), // waiting 20 min: undelivered
  u('m6', 'sent', '2024-06-01T11:55:00.000Z'), // 5 min old: neither in the cohort nor undelivered
  u('m7', 'sent', '2024-06-01T10:40:00.000Z'), // before the cohort, waiting 80 min: undelivered
  u('m8', 'sent', '2024-05-31T10:00:00.000Z'), // 26 h old: beyond the undelivered look-back
  u('r1', 'sent', '2024-05-31T12:00:00.000Z'),
  u('r1', 'delivered', '2024-05-31T12:00:10.000Z'),
  u('r1', 'read', '2024-05-31T13:00:00.000Z'),
  u('r2', 'sent', '2024-05-31T18:00:00.000Z'),
  u('r2', 'delivered', '2024-05-31T18:00:05.000Z'),
  u('r3', 'sent', '2024-06-01T08:00:00.000Z'),
  u('r3', 'played', '2024-06-01T08:05:00.000Z'),
  u('r4', 'sent', '2024-06-01T09:00:00.000Z'),
  u('r4', 'delivered', '2024-06-01T09:00:01.000Z'),
];

describe.each(availableEngines())('delivery health figures on %s', (engine) => {
  let db: TestDatabase;
  let store: SqlTrackerStore;
  beforeAll(async () => {
    db = await createTestDatabase(engine);
    store = new SqlTrackerStore(db.executor);
    await store.applyStatusUpdates(DATA);
  });
  afterAll(() => db.drop());

  it('computes the delivery cohort, read cohort and undelivered count as worked out by hand', async () => {
    const health = await store.deliveryHealth(WINDOWS, AS_OF);
    expect(health).toEqual({
      computed_at: AS_OF.toISOString(),
      cohort_sent: 5, // m1..m5
      cohort_delivered: 3, // m1, m2, m3 (inferred from read)
      cohort_failed: 1, // m4
      delivery_rate_percent: 60, // 3 / 5
      failure_rate_percent: 20, // 1 / 5
      top_error_code: 131049, // m4's
      top_error_title: 'ecosystem',
      top_error_count: 1,
      avg_delivery_seconds: 10, // (5 + 15) / 2; m3's delivered is inferred
      median_delivery_seconds: 10,
      delivery_latency_samples: 2,
      read_cohort_delivered: 4, // r1..r4 (m7 was never delivered)
      read_cohort_read: 2, // r1, r3 (played implies read)
      read_rate_percent: 50,
      undelivered_cohort_sent: 10, // sent in [May 31 12:00, 11:50): m1..m5, m7, r1..r4
      undelivered_count: 2, // m5, m7
      undelivered_percent: 20,
    });
  });

  it('counts only recent sends as undelivered: with the default 10-60 minute window, m7 (80 min old) is a phone that is off', async () => {
    const health = await store.deliveryHealth({ ...WINDOWS, undeliveredWithinMinutes: 60 }, AS_OF);
    // sent in [11:00, 11:50): m1 (11:00), m2, m3, m4, m5; waiting: m5 only
    expect(health).toMatchObject({ undelivered_cohort_sent: 5, undelivered_count: 1, undelivered_percent: 20 });
  });

  it('takes the median, not the mean, of delivery times: one phone that comes back hours later does not move it', async () => {
    const extra = await createTestDatabase(engine);
    try {
      const other = new SqlTrackerStore(extra.executor);
      const times = [2, 3, 4, 5, 3_600]; // seconds
      await other.applyStatusUpdates(
        times.flatMap((seconds, i) => [
          u(`d${i}`, 'sent', '2024-06-01T11:00:00.000Z'),
          u(`d${i}`, 'delivered', new Date(Date.parse('2024-06-01T11:00:00.000Z') + seconds * 1000).toISOString()),
        ]),
      );
      const health = await other.deliveryHealth(WINDOWS, AS_OF);
      expect(health.median_delivery_seconds).toBe(4);
      expect(health.avg_delivery_seconds).toBe(722.8);
    } finally {
      await extra.drop();
    }
  });

  it('reports no rate (not 0 %) when nothing was sent', async () => {
    const quiet = await store.deliveryHealth(WINDOWS, new Date('2030-01-01T00:00:00Z'));
    expect(quiet).toMatchObject({
      cohort_sent: 0,
      delivery_rate_percent: null,
      failure_rate_percent: null,
      read_rate_percent: null,
      avg_delivery_seconds: null,
      median_delivery_seconds: null,
      top_error_code: null,
      top_error_count: 0,
      undelivered_count: 0,
      undelivered_percent: null,
    });
  });

  it('sums up a day: May 31 holds m8, r1 and r2', async () => {
    const summary = await store.deliverySummary(new Date('2024-05-31T00:00:00Z'), new Date('2024-06-01T00:00:00Z'));
    expect(summary).toMatchObject({
      total_messages: 3,
      sent: 3,
      delivered: 2,
      read: 1,
      failed: 0,
      delivery_rate_percent: 66.67,
      read_rate_percent: 50,
      avg_delivery_seconds: 7.5,
    });
  });

  it('sums up a day without messages as zeros, with no rates', async () => {
    const summary = await store.deliverySummary(new Date('2030-01-01T00:00:00Z'), new Date('2030-01-02T00:00:00Z'));
    expect(summary).toEqual({
      window_start: '2030-01-01T00:00:00.000Z',
      window_end: '2030-01-02T00:00:00.000Z',
      total_messages: 0,
      sent: 0,
      delivered: 0,
      read: 0,
      failed: 0,
      delivery_rate_percent: null,
      read_rate_percent: null,
      avg_delivery_seconds: null,
      top_failure: null,
    });
  });

  it('the sweeper publishes the figures as metrics, leaving out figures without data', async () => {
    const capture = capturingMetrics();
    try {
      const sweep = createSweeper({
        store: () => store,
        metrics: capture.metrics,
        logger: silentLogger(),
        ...sweeperSettings,
        now: () => AS_OF,
      });
      await sweep({ kind: 'health' });
      const quiet = createSweeper({
        store: () => store,
        metrics: capture.metrics,
        logger: silentLogger(),
        ...sweeperSettings,
        now: () => new Date('2030-01-01T00:00:00Z'),
      });
      await quiet({});
      const values = (name: string) => capture.values(name).map((v) => v.value);
      expect(values('SweeperRuns')).toEqual([1, 1]);
      expect(values('DeliveryRate')).toEqual([60]);
      expect(values('ReadRate')).toEqual([50]);
      expect(values('AvgDeliveryTime')).toEqual([10]);
      expect(values('MedianDeliveryTime')).toEqual([10]);
      expect(values('FailureRate')).toEqual([20]);
      expect(values('UndeliveredMessages')).toEqual([2, 0]);
      expect(values('UndeliveredPercent')).toEqual([20]);
      // Cohort sizes are published even when empty: the alarms judge a rate only over a large enough cohort.
      expect(values('CohortSent')).toEqual([5, 0]);
      expect(values('UndeliveredCohort')).toEqual([10, 0]);
      expect(values('ReadCohortDelivered')).toEqual([4, 0]);
      // Each run measures its two database calls: the figures, then the rollups' fold (compact_rollups).
      expect(values('DatabaseCallDuration')).toHaveLength(4);
    } finally {
      capture.restore();
    }
  });

  it("the sweeper sends yesterday's summary once a day", async () => {
    const sent: { subject: string; message: string }[] = [];
    const notifier: SummaryNotifier = { publish: async (subject, message) => void sent.push({ subject, message }) };
    const capture = capturingMetrics();
    try {
      const sweep = createSweeper({
        store: () => store,
        metrics: capture.metrics,
        logger: silentLogger(),
        ...sweeperSettings,
        notifier,
        now: () => new Date('2024-06-01T08:00:00Z'),
      });
      await sweep({ kind: 'daily-summary' });
    } finally {
      capture.restore();
    }
    expect(sent).toHaveLength(1);
    expect(sent[0]?.subject).toBe('WhatsApp delivery 2024-05-31: 66.7 % delivered, 50.0 % read');
    expect(sent[0]?.message).toMatch(/sent {7}3\n/);
    expect(sent[0]?.message).toMatch(/average delivery time {2}7\.5 s/);
  });
});

const describeOnRealPostgres = hasRealPostgres() ? describe : describe.skip;

describeOnRealPostgres('delivery health at the start of a minute, on PostgreSQL', () => {
  let db: TestDatabase;
  let client: Client;
  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    client = new Client({ connectionString: db.url });
    await client.connect();
  });
  afterAll(async () => {
    await client.end();
    await db.drop();
  });

  /** delivery_health as of `asOf` with the default cohorts, and how many scans it made of the message rows. */
  async function healthAndScans(asOf: Date) {
    const w = healthWindows(DEFAULT_COHORTS);
    // pg_stat_xact_user_tables counts this transaction's scans once earlier ones are flushed to the shared stats.
    await client.query('select pg_stat_force_next_flush()');
    await client.query('begin');
    try {
      const { rows } = await client.query('select * from delivery_health($1, $2, $3, $4, $5, $6, $7)', [
        asOf,
        w.deliveryWindowMinutes,
        w.deliveryGraceMinutes,
        w.readWindowHours,
        w.readGraceMinutes,
        w.undeliveredAfterMinutes,
        w.undeliveredWithinMinutes,
      ]);
      const { rows: stats } = await client.query<{ scans: string }>(
        `select idx_scan + seq_scan as scans from pg_stat_xact_user_tables where relname = 'broadcasts_messages'`,
      );
      const counts = ['cohort_sent', 'cohort_delivered', 'cohort_failed', 'read_cohort_read'] as const;
      return {
        cohorts: Object.fromEntries(counts.map((k) => [k, Number(rows[0][k])])),
        scans: Number(stats[0]!.scans),
      };
    } finally {
      await client.query('commit');
    }
  }

  it('reads only rollups at the start of a minute (the sweeper asks then), and the partial minutes at any other instant', async () => {
    const minute = cohortInstant(new Date());
    const at = (minutesBefore: number, seconds: number) =>
      new Date(minute.getTime() - minutesBefore * 60_000 + seconds * 1000).toISOString();
    // Messages in each window of the default cohorts, some in the seconds of a window's first or last minute.
    await new SqlTrackerStore(db.executor).applyStatusUpdates([
      u('edge-start', 'sent', at(35, 20)), // the delivery cohort's first minute
      u('edge-start', 'delivered', at(35, 25)),
      u('inside', 'sent', at(20, 0)),
      { ...u('inside', 'failed', at(20, -5)), error: { code: 131049, title: 'ecosystem' } },
      u('edge-end', 'sent', at(6, 30)), // the delivery cohort's last minute
      u('waiting', 'sent', at(40, 10)), // undelivered
      u('read', 'sent', at(600, 45)),
      u('read', 'read', at(590, 0)),
    ]);

    const whole = await healthAndScans(minute);
    expect(whole.cohorts).toEqual({ cohort_sent: 3, cohort_delivered: 1, cohort_failed: 1, read_cohort_read: 1 });
    expect(whole.scans).toBe(0);

    const within = await healthAndScans(new Date(minute.getTime() + 17_321));
    expect(within.scans).toBeGreaterThan(0);
    expect(within.cohorts).toEqual(whole.cohorts);
  });
});
