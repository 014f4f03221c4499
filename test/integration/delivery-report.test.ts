import { DEFAULT_COHORTS } from '../../lambdas/domain/alert-settings';
import type { StatusUpdate } from '../../lambdas/domain/status-update';
import { buildReport, type Report } from '../../lambdas/report/report-data';
import { SqlTrackerStore } from '../../lambdas/store/sql-tracker-store';
import { availableEngines, createTestDatabase, type TestDatabase } from '../support/databases';

const at = (hms: string, day = '2024-06-01') => `${day}T${hms}.000Z`;
const u = (
  message_id: string,
  status: StatusUpdate['status'],
  time: string,
  extra: Partial<StatusUpdate> = {},
): StatusUpdate => ({ message_id, status, timestamp: time, ...extra });

/** A fixed day of messages; every expected figure below is worked out by hand from it. */
const DATA: StatusUpdate[] = [
  u('a1', 'sent', at('10:00:00'), { campaign: 'A', phone_number: '+911' }),
  u('a1', 'delivered', at('10:00:04')),
  u('a1', 'read', at('10:10:04')),
  u('a2', 'sent', at('10:30:00'), { campaign: 'A', phone_number: '+912' }),
  u('a2', 'delivered', at('10:30:10')),
  u('a3', 'sent', at('11:00:00'), { campaign: 'A', phone_number: '+911' }),
  u('a3', 'read', at('11:30:00')), // delivered inferred
  u('b1', 'sent', at('11:15:00'), { campaign: 'B', phone_number: '+913' }),
  u('b1', 'failed', at('11:15:02'), { error: { code: 131026, title: 'Message undeliverable' } }),
  u('b2', 'sent', at('12:00:00'), { campaign: 'B', phone_number: '+914' }),
  u('b2', 'failed', at('12:00:03'), { error: { code: 131049, title: 'ecosystem engagement' } }),
  u('b3', 'sent', at('12:30:00'), { campaign: 'B', phone_number: '+913' }),
  u('b3', 'delivered', at('12:30:20')),
  u('b3', 'read', at('12:32:20')),
  u('n1', 'sent', at('13:00:00'), { phone_number: '+915' }), // no campaign, never delivered
  u('out', 'sent', at('01:00:00', '2024-06-02'), { campaign: 'A', phone_number: '+916' }), // outside the period
];

describe.each(availableEngines())('report figures on %s', (engine) => {
  let db: TestDatabase;
  let report: Report;
  const query = async (sql: string, params: unknown[] = []) => (await db.executor.query(sql, params)).rows;

  beforeAll(async () => {
    db = await createTestDatabase(engine);
    await new SqlTrackerStore(db.executor).applyStatusUpdates(DATA);
    report = await buildReport(query, { from: new Date('2024-06-01T00:00:00Z'), to: new Date('2024-06-02T00:00:00Z') });
  });
  afterAll(() => db.drop());

  it('overall: rates, delivery time and read delay from reported times only', () => {
    expect(report.overall).toEqual({
      campaign: null,
      total_messages: 7,
      sent: 7,
      delivered: 4, // a1, a2, a3 (inferred from read), b3
      read: 3, // a1, a3, b3
      failed: 2,
      delivery_rate_percent: 57.14, // 4 / 7
      read_rate_percent: 75, // 3 / 4
      avg_delivery_seconds: 11.333, // (4 + 10 + 20) / 3; a3's delivered is inferred
      avg_read_delay_minutes: 6, // (10 + 2) / 2
    });
  });

  it('per campaign', () => {
    const by = Object.fromEntries(report.by_campaign.map((c) => [c.campaign, c]));
    expect(by.A).toMatchObject({
      total_messages: 3,
      delivered: 3,
      read: 2,
      failed: 0,
      delivery_rate_percent: 100,
      read_rate_percent: 66.67,
      avg_delivery_seconds: 7,
      avg_read_delay_minutes: 10,
    });
    expect(by.B).toMatchObject({
      total_messages: 3,
      delivered: 1,
      read: 1,
      failed: 2,
      delivery_rate_percent: 33.33,
      read_rate_percent: 100,
      avg_delivery_seconds: 20,
      avg_read_delay_minutes: 2,
    });
    expect(by['(none)']).toMatchObject({
      total_messages: 1,
      delivered: 0,
      delivery_rate_percent: 0,
      read_rate_percent: null,
    });
  });

  it('hourly volume', () => {
    expect(report.hourly.map((h) => [h.hour.slice(11, 13), h.sent, h.delivered, h.read, h.failed])).toEqual([
      ['10', 2, 2, 1, 0],
      ['11', 2, 1, 1, 1],
      ['12', 2, 1, 1, 1],
      ['13', 1, 0, 0, 0],
    ]);
  });

  it('failures by error code', () => {
    expect(report.failures).toEqual([
      { error_code: 131026, error_title: 'Message undeliverable', messages: 1, share_percent: 50 },
      { error_code: 131049, error_title: 'ecosystem engagement', messages: 1, share_percent: 50 },
    ]);
  });

  it('most engaged recipients', () => {
    expect(
      report.top_recipients.map((r) => [
        r.phone_number,
        r.messages,
        r.read,
        r.read_rate_percent,
        r.avg_read_delay_minutes,
      ]),
    ).toEqual([
      ['+911', 2, 2, 100, 10],
      ['+913', 2, 1, 100, 2],
      ['+912', 1, 0, 0, null],
      ['+914', 1, 0, null, null],
      ['+915', 1, 0, null, null],
    ]);
  });

  it('best hours to send by read rate', async () => {
    const rows = await query('select * from best_send_hours($1, $2, 1)', [
      '2024-06-01T00:00:00Z',
      '2024-06-02T00:00:00Z',
    ]);
    expect(rows.map((r) => [r.hour_of_day, Number(r.delivered), Number(r.read), Number(r.read_rate_percent)])).toEqual([
      [11, 1, 1, 100],
      [12, 1, 1, 100],
      [10, 2, 1, 50],
    ]);
  });

  it("re-send list: sent, not delivered nor failed, after the stack's undeliveredAfterMinutes (default 10)", async () => {
    expect(report.resend).toEqual([
      { message_id: 'n1', phone_number: '+915', campaign: null, sent_at: at('13:00:00'), minutes_waiting: 660 },
    ]);
    expect(report.resend_after_minutes).toBe(DEFAULT_COHORTS.undeliveredAfterMinutes);
    // n1 has waited 660 minutes at the end of the period: a longer setting leaves it out, and the report says which.
    const later = await buildReport(query, {
      from: new Date('2024-06-01T00:00:00Z'),
      to: new Date('2024-06-02T00:00:00Z'),
      undeliveredAfterMinutes: 661,
    });
    expect([later.resend, later.resend_after_minutes]).toEqual([[], 661]);
  });

  it('reminder list: delivered, unread after 24 hours', async () => {
    const rows = await query('select * from unread_messages(24, 7, $1)', ['2024-06-02T12:00:00Z']);
    expect(rows.map((r) => [r.message_id, Number(r.hours_unread)])).toEqual([['a2', 25.5]]);
  });

  it("the daily dashboard view keeps the original design's shape", async () => {
    const rows = await query('select * from message_status_dashboard');
    expect(rows).toHaveLength(30);
    expect(Object.keys(rows[0] ?? {})).toEqual(
      expect.arrayContaining([
        'day',
        'total_messages',
        'sent',
        'delivered',
        'read',
        'failed',
        'delivery_rate_percent',
        'read_rate_percent',
      ]),
    );
  });
});
