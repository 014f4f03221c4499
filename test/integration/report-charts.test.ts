import type { StatusUpdate } from '../../lambdas/domain/status-update';
import { buildReport } from '../../lambdas/report/report-data';
import { SqlTrackerStore } from '../../lambdas/store/sql-tracker-store';
import { availableEngines, createTestDatabase, type TestDatabase } from '../support/databases';

const u = (message_id: string, status: StatusUpdate['status'], timestamp: string): StatusUpdate => ({
  message_id,
  status,
  timestamp,
});
/**
 * Worked out by hand. Monday 2 March 2026; India is UTC+5:30, so 20:00 UTC on Monday is 01:30 on Tuesday there.
 *   a: sent 10:00, delivered +3 s, read +2 min        b: sent 10:00, delivered +40 s (no read)
 *   c: sent 20:00, delivered +3 h, read +30 min       d: read only (delivered inferred: no delay sample)
 */
const DATA: StatusUpdate[] = [
  u('a', 'sent', '2026-03-02T10:00:00.000Z'),
  u('a', 'delivered', '2026-03-02T10:00:03.000Z'),
  u('a', 'read', '2026-03-02T10:02:03.000Z'),
  u('b', 'sent', '2026-03-02T10:00:00.000Z'),
  u('b', 'delivered', '2026-03-02T10:00:40.000Z'),
  u('c', 'sent', '2026-03-02T20:00:00.000Z'),
  u('c', 'delivered', '2026-03-02T23:00:00.000Z'),
  u('c', 'read', '2026-03-02T23:30:00.000Z'),
  u('d', 'sent', '2026-03-02T10:30:00.000Z'),
  u('d', 'read', '2026-03-02T10:31:00.000Z'),
];

describe.each(availableEngines())('report chart figures on %s', (engine) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(engine);
    await new SqlTrackerStore(db.executor).applyStatusUpdates(DATA);
  });
  afterAll(() => db.drop());

  const report = (timeZone: string) =>
    buildReport(async (sql, params) => (await db.executor.query(sql, params)).rows, {
      from: new Date('2026-03-02T00:00:00Z'),
      to: new Date('2026-03-03T00:00:00Z'),
      timeZone,
    });

  it('heat map by weekday and hour in the chosen time zone', async () => {
    expect((await report('UTC')).heatmap).toEqual([
      { weekday: 1, hour_of_day: 10, delivered: 3, read: 2, read_rate_percent: 66.67 }, // a, b, d
      { weekday: 1, hour_of_day: 20, delivered: 1, read: 1, read_rate_percent: 100 }, // c
    ]);
    expect((await report('Asia/Kolkata')).heatmap).toEqual([
      { weekday: 1, hour_of_day: 15, delivered: 2, read: 1, read_rate_percent: 50 }, // a, b at 15:30
      { weekday: 1, hour_of_day: 16, delivered: 1, read: 1, read_rate_percent: 100 }, // d at 16:00
      { weekday: 2, hour_of_day: 1, delivered: 1, read: 1, read_rate_percent: 100 }, // c, Tuesday 01:30
    ]);
  });

  it('delays per bucket, reported times only, and their percentiles', async () => {
    const r = await report('UTC');
    const count = (kind: string, bucket: string) =>
      r.delays.find((d) => d.kind === kind && d.bucket === bucket)?.messages;
    expect(r.delays).toHaveLength(16);
    expect(count('delivery', '< 5 s')).toBe(1); // a
    expect(count('delivery', '30 s-2 min')).toBe(1); // b
    expect(count('delivery', '1-6 h')).toBe(1); // c
    expect(r.delays.filter((d) => d.kind === 'delivery').reduce((s, d) => s + d.messages, 0)).toBe(3); // d has no sample
    expect(count('read', '30 s-2 min')).toBe(0);
    expect(count('read', '2-10 min')).toBe(1); // a, exactly 2 min: the upper bucket
    expect(count('read', '10-60 min')).toBe(1); // c
    // p90 by linear interpolation over 3 s, 40 s, 10,800 s: 40 + 0.8 x (10,800 - 40) = 8,648
    expect(r.percentiles).toEqual({
      delivery_p50_seconds: 40,
      delivery_p90_seconds: 8_648,
      read_p50_minutes: 16,
      read_p90_minutes: 27.2,
    });
  });

  it('compares with the period of the same length before', async () => {
    const r = await report('UTC');
    expect(r.previous.total_messages).toBe(0);
    expect(r.overall.total_messages).toBe(4);
  });
});
