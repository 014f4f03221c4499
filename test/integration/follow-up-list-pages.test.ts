import type { StatusUpdate } from '../../lambdas/domain/status-update';
import { SqlTrackerStore } from '../../lambdas/store/sql-tracker-store';
import { availableEngines, createTestDatabase, type TestDatabase } from '../support/databases';

/**
 * The follow-up lists page by page (migration 0029): `max_rows` and the keyset cursor (`after_time`,
 * `after_message_id`) return every row of the whole list exactly once, in the whole list's order, and the whole
 * list is still the one the definitions before 0029 gave (written out below as they were).
 */
const AS_OF = '2024-06-02T00:00:00.000Z';
const NO_RESEND = [131026];
const at = (hm: string, day = '2024-06-01') => `${day}T${hm}:00.000Z`;
const u = (message_id: string, status: StatusUpdate['status'], time: string, extra: Partial<StatusUpdate> = {}) =>
  ({ message_id, status, timestamp: time, phone_number: '+919800000001', ...extra }) as StatusUpdate;
const fixable = { code: 131049, title: 'ecosystem engagement' };
const dead = { code: 131026, title: 'Message undeliverable' };

// Ties on purpose: several messages share a time, so the cursor's message_id decides where a page starts.
const DATA: StatusUpdate[] = [
  ...['w3', 'w1', 'w2', 'w5', 'w4'].map((id) => u(id, 'sent', at('09:00'))), // waiting, same sent time
  ...['w7', 'w6'].map((id) => u(id, 'sent', at('10:30'))),
  u('w8', 'sent', at('23:55')), // waiting only 5 minutes at AS_OF: not yet a re-send
  u('old', 'sent', at('23:00', '2024-05-31')), // before the 24 hours
  u('f1', 'sent', at('09:00')),
  u('f1', 'failed', at('09:00'), { error: fixable }),
  u('f2', 'sent', at('11:00')),
  u('f2', 'failed', at('11:01'), { error: dead }), // left out, counted by resend_left_out
  u('f3', 'failed', at('10:30'), { error: fixable }), // failed before any sent status: placed by its failure time
  u('f4', 'failed', at('10:30'), { error: dead }),
  u('d1', 'sent', at('09:00')),
  u('d1', 'delivered', at('09:01')),
  // The reminder list: delivered, unread for more than a day, within the week.
  ...['r2', 'r1', 'r3'].map((id) => u(id, 'delivered', at('08:00', '2024-05-29'))),
  ...['r5', 'r4'].map((id) => u(id, 'delivered', at('12:00', '2024-05-30'))),
  u('r6', 'delivered', at('20:00', '2024-06-01')), // unread for 4 hours only
  u('r7', 'delivered', at('12:00', '2024-05-20')), // before the week
  u('r8', 'delivered', at('12:00', '2024-05-30')),
  u('r8', 'read', at('12:10', '2024-05-30')),
];

/** The lists as 0014 and 0021 defined them (message_id added to remind_list's order: 0029's only change to it). */
const RESEND_BEFORE_0029 = `
  select m.message_id from broadcasts_messages m
   where ((m.sent_at >= $1::timestamptz - make_interval(hours => 24) and m.sent_at < $1)
       or (m.sent_at is null and m.failed_at >= $1::timestamptz - make_interval(hours => 24) and m.failed_at < $1))
     and m.delivered_at is null
     and case when m.failed_at is null then m.sent_at < $1::timestamptz - make_interval(mins => 10)
              else coalesce(m.error_code <> all(coalesce($2::integer[], '{}')), true) end
   order by coalesce(m.sent_at, m.failed_at), m.message_id`;
const LEFT_OUT_BEFORE_0029 = `
  select m.error_code, min(m.error_title) as error_title, count(*)::integer as messages from broadcasts_messages m
   where ((m.sent_at >= $1::timestamptz - make_interval(hours => 24) and m.sent_at < $1)
       or (m.sent_at is null and m.failed_at >= $1::timestamptz - make_interval(hours => 24) and m.failed_at < $1))
     and m.delivered_at is null and m.failed_at is not null and m.error_code = any(coalesce($2::integer[], '{}'))
   group by m.error_code
   order by 3 desc, 1`;
const REMIND_BEFORE_0029 = `
  select m.message_id from broadcasts_messages m
   where m.read_at is null and m.delivered_at >= $1::timestamptz - make_interval(days => 7)
     and m.delivered_at < $1::timestamptz - make_interval(hours => 24)
   order by m.delivered_at, m.message_id`;

type Row = { message_id: string; sent_at: Date | null; failed_at: Date | null; delivered_at?: Date };

describe.each(availableEngines())('follow-up lists by page (%s)', (engine) => {
  let db: TestDatabase;
  const query = async <R = Row>(sql: string, params: unknown[] = []) =>
    (await db.executor.query<R & Record<string, unknown>>(sql, params)).rows as R[];
  const resendPage = (maxRows: number | null, afterTime: Date | null, afterId: string | null) =>
    query(
      `select * from resend_list(older_than_minutes => 10, lookback_hours => 24, as_of => $1, no_resend_codes => $2,
                                 max_rows => $3, after_time => $4, after_message_id => $5)`,
      [AS_OF, NO_RESEND, maxRows, afterTime, afterId],
    );
  const remindPage = (maxRows: number | null, afterTime: Date | null, afterId: string | null) =>
    query(
      `select * from remind_list(older_than_hours => 24, lookback_days => 7, as_of => $1, max_rows => $2,
                                 after_time => $3, after_message_id => $4)`,
      [AS_OF, maxRows, afterTime, afterId],
    );

  /** Every page of `pageSize`, each starting after the last row of the one before, until an empty page. */
  async function allPages(page: typeof resendPage, pageSize: number, timeOf: (row: Row) => Date | null) {
    const pages: string[][] = [];
    let last: Row | undefined;
    // Bounded: a cursor that does not move on would page forever.
    for (let i = 0; i <= 20; i++) {
      const rows = await page(pageSize, last ? timeOf(last) : null, last?.message_id ?? null);
      if (!rows.length) return pages;
      expect(rows.length).toBeLessThanOrEqual(pageSize);
      pages.push(rows.map((r) => r.message_id));
      last = rows[rows.length - 1];
    }
    throw new Error(`still paging after 20 pages: ${pages.map((p) => p.join(',')).join(' | ')}`);
  }

  beforeAll(async () => {
    db = await createTestDatabase(engine);
    await new SqlTrackerStore(db.executor).applyStatusUpdates(DATA);
  });
  afterAll(() => db.drop());

  it('resend_list: the whole list is the one before 0029, in the same order', async () => {
    const whole = (await resendPage(null, null, null)).map((r) => r.message_id);
    expect(whole).toEqual(['f1', 'w1', 'w2', 'w3', 'w4', 'w5', 'f3', 'w6', 'w7']);
    expect((await query(RESEND_BEFORE_0029, [AS_OF, NO_RESEND])).map((r) => r.message_id)).toEqual(whole);
    // The four-argument call the report made before 0029 still resolves, to the same list.
    const positional = await query('select message_id from resend_list(10, 24, $1, $2)', [AS_OF, NO_RESEND]);
    expect(positional.map((r) => r.message_id)).toEqual(whole);
  });

  it.each([1, 2, 4, 9])('resend_list: pages of %i rows return every row once, in order', async (size) => {
    const whole = (await resendPage(null, null, null)).map((r) => r.message_id);
    const pages = await allPages(resendPage, size, (r) => r.sent_at ?? r.failed_at);
    expect(pages.flat()).toEqual(whole);
    expect(pages).toHaveLength(Math.ceil(whole.length / size));
  });

  it('resend_list: after_time alone starts at that time, its rows included', async () => {
    const rows = await resendPage(null, new Date(at('10:30')), null);
    expect(rows.map((r) => r.message_id)).toEqual(['f3', 'w6', 'w7']);
    // A cursor before the period starts at the period.
    expect((await resendPage(2, new Date(at('00:00', '2024-05-01')), 'x')).map((r) => r.message_id)).toEqual([
      'f1',
      'w1',
    ]);
  });

  it('resend_left_out counts the same failures as before 0029', async () => {
    const counts = await query('select error_code, error_title, messages::integer from resend_left_out(24, $1, $2)', [
      AS_OF,
      NO_RESEND,
    ]);
    expect(counts).toEqual([{ error_code: 131026, error_title: 'Message undeliverable', messages: 2 }]); // f2, f4
    expect(counts).toEqual(await query(LEFT_OUT_BEFORE_0029, [AS_OF, NO_RESEND]));
  });

  it('remind_list: the whole list is the one before 0029, ties in message_id order', async () => {
    const whole = (await remindPage(null, null, null)).map((r) => r.message_id);
    expect(whole).toEqual(['r1', 'r2', 'r3', 'r4', 'r5']);
    expect((await query(REMIND_BEFORE_0029, [AS_OF])).map((r) => r.message_id)).toEqual(whole);
    const positional = await query('select message_id from remind_list(24, 7, $1)', [AS_OF]);
    expect(positional.map((r) => r.message_id)).toEqual(whole);
  });

  it.each([1, 2, 3, 5])('remind_list: pages of %i rows return every row once, in order', async (size) => {
    const whole = (await remindPage(null, null, null)).map((r) => r.message_id);
    const pages = await allPages(remindPage, size, (r) => r.delivered_at ?? null);
    expect(pages.flat()).toEqual(whole);
    expect(pages).toHaveLength(Math.ceil(whole.length / size));
  });
});
