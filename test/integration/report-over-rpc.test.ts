import type { StatusUpdate } from '../../lambdas/domain/status-update';
import { renderDailyReport } from '../../lambdas/report/daily-report';
import { buildReport, buildReportWith } from '../../lambdas/report/report-data';
import { sqlReportFunctionCall } from '../../lambdas/store/report-functions';
import { SqlTrackerStore } from '../../lambdas/store/sql-tracker-store';
import { SupabaseTrackerStore } from '../../lambdas/store/supabase-tracker-store';
import { availableEngines, createTestDatabase, hasRealPostgres, type TestDatabase } from '../support/databases';
import { type PostgrestRpcServer, startPostgrestRpcServer } from '../support/postgrest-rpc-server';

const SERVICE_ROLE_KEY = 'test-service-role-key';
const at = (hms: string, day = '2024-06-01') => `${day}T${hms}.000Z`;
const u = (id: string, status: StatusUpdate['status'], time: string, extra: Partial<StatusUpdate> = {}) =>
  ({ message_id: id, status, timestamp: time, ...extra }) as StatusUpdate;

/** Every section has rows: campaigns, a failure, reads, and messages left undelivered or unread (the lists). */
const DATA: StatusUpdate[] = [
  u('a1', 'sent', at('10:00:00'), { campaign: 'A', phone_number: '+919876543210' }),
  u('a1', 'delivered', at('10:00:04')),
  u('a1', 'read', at('10:10:04')),
  u('a2', 'sent', at('10:30:00'), { campaign: 'A', phone_number: '+919876543211' }),
  u('a2', 'delivered', at('10:30:10')),
  u('b1', 'sent', at('11:15:00'), { campaign: 'B', phone_number: '+919876543212' }),
  u('b1', 'failed', at('11:15:02'), { error: { code: 131026, title: 'Message undeliverable' } }),
  u('n1', 'sent', at('13:00:00'), { phone_number: '+919876543213' }),
  u('n2', 'sent', at('14:00:00'), { phone_number: '+919876543214' }),
  u('p1', 'sent', at('09:00:00', '2024-05-31'), { campaign: 'A' }), // the period before
  u('p1', 'delivered', at('09:00:02', '2024-05-31')),
];
const OPTIONS = { from: new Date('2024-06-01T00:00:00Z'), to: new Date('2024-06-02T00:00:00Z') };

describe.each(availableEngines())('the report through PostgREST rpc on %s', (engine) => {
  let db: TestDatabase;
  let rest: PostgrestRpcServer;
  let store: SupabaseTrackerStore;

  beforeAll(async () => {
    db = await createTestDatabase(engine);
    await new SqlTrackerStore(db.executor).applyStatusUpdates(DATA);
    rest = await startPostgrestRpcServer(db.executor, SERVICE_ROLE_KEY);
    store = new SupabaseTrackerStore({ url: rest.url, serviceRoleKey: SERVICE_ROLE_KEY });
  });
  afterAll(async () => {
    await store.close();
    await rest.close();
    await db.drop();
  });

  const overSql = (options = OPTIONS) =>
    buildReport(async (sql, params) => (await db.executor.query(sql, params)).rows, options);

  it('is the same report as over SQL, section by section, calling only the report functions', async () => {
    rest.requests.length = 0;
    const viaRpc = await buildReportWith(store.callReportFunction, { ...OPTIONS, timeZone: 'Asia/Kolkata' });
    const viaSql = await overSql({ ...OPTIONS, timeZone: 'Asia/Kolkata' } as typeof OPTIONS);

    expect(viaRpc).toEqual(viaSql);
    // Not vacuous: the data fills every section the comparison covers.
    expect(viaRpc.by_campaign.map((c) => c.campaign).sort()).toEqual(['(none)', 'A', 'B']);
    expect(viaRpc.failures).toHaveLength(1);
    expect(viaRpc.resend.map((r) => r.message_id)).toEqual(['n1', 'n2']);
    expect(viaRpc.remind.map((r) => r.message_id)).toEqual(['p1']); // unread 24 h after delivery
    expect(viaRpc.previous.total_messages).toBe(1);
    expect(viaRpc.heatmap.length).toBeGreaterThan(0);
    expect(new Set(rest.requests.map((r) => r.path))).toEqual(
      new Set(
        [
          'delivery_report',
          'hourly_volume',
          'best_send_hours',
          'top_recipients',
          'failures_by_error',
          'resend_list',
          'resend_left_out',
          'remind_list',
          'read_heatmap',
          'delay_distribution',
          'delay_percentiles',
          'pricing_breakdown',
          'delivery_report_by',
          'number_health',
          'templates_needing_attention',
        ].map((fn) => `/rest/v1/rpc/${fn}`),
      ),
    );
  });

  it("keeps the lists to listLimit rows through rpc's limit, as SQL's limit does", async () => {
    const viaRpc = await buildReportWith(store.callReportFunction, { ...OPTIONS, listLimit: 1 });
    expect(viaRpc.resend.map((r) => r.message_id)).toEqual(['n1']);
    expect(viaRpc).toEqual(await overSql({ ...OPTIONS, listLimit: 1 } as typeof OPTIONS));
  });

  it('says which function failed when the database refuses a call (here: an unknown time zone)', async () => {
    await expect(
      buildReportWith(store.callReportFunction, { ...OPTIONS, timeZone: 'Mars/Olympus_Mons' }),
    ).rejects.toThrow(/read_heatmap failed: .*time zone/);
  });

  it('refuses, over SQL, a call of anything but the report functions', () => {
    const call = sqlReportFunctionCall(async () => []);
    expect(() => call('pg_sleep' as never, {})).toThrow(/not a report function call/);
    expect(() => call('hourly_volume', { 'period_start); drop table x; --': 1 })).toThrow(/not a report function/);
  });
});

// Supabase's API stops every call at the role's statement_timeout (8 s by default), and top_recipients reads every
// message of its period (docs/performance.md): on a busy day it is the call that meets the limit. PGlite has no
// statement_timeout, so this runs on PostgreSQL, which cancels the call for real.
(hasRealPostgres() ? describe : describe.skip)('a report call stopped by the statement timeout (PostgreSQL)', () => {
  const MESSAGES = 20_000;
  let db: TestDatabase;
  let rest: PostgrestRpcServer;
  let store: SupabaseTrackerStore;

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    // Enough of a day that ranking its recipients takes well over a millisecond on any machine.
    await db.executor.query(
      `insert into broadcasts_messages (message_id, phone_number, reported_sent_at, reported_delivered_at, reported_read_at)
       select 'wamid.t' || g, '+9198' || lpad((g % 5000)::text, 8, '0'),
              timestamptz '2024-06-01 00:00Z' + g * interval '4 seconds',
              timestamptz '2024-06-01 00:00:03Z' + g * interval '4 seconds',
              case when g % 3 = 0 then timestamptz '2024-06-01 00:01Z' + g * interval '4 seconds' end
         from generate_series(1, $1::int) g`,
      [MESSAGES],
    );
    rest = await startPostgrestRpcServer(db.executor, SERVICE_ROLE_KEY, {
      url: db.url!,
      milliseconds: { top_recipients: 1 },
    });
    store = new SupabaseTrackerStore({ url: rest.url, serviceRoleKey: SERVICE_ROLE_KEY });
  });
  afterAll(async () => {
    await store.close();
    await rest.close();
    await db.drop();
  });

  it('fails the report, naming the function and SQLSTATE 57014, where no section may be missing (the CLI)', async () => {
    await expect(buildReportWith(store.callReportFunction, OPTIONS)).rejects.toMatchObject({
      code: '57014',
      message: expect.stringMatching(/^top_recipients failed: canceling statement due to statement timeout/),
    });
  });

  it("leaves it out of the daily page, which says so, with every other section's figures", async () => {
    const { html, unavailableSections: missing } = await renderDailyReport(store.callReportFunction, OPTIONS);

    expect(missing).toEqual(['most engaged recipients (the database stopped the query at its statement timeout)']);
    expect(html).toContain('<strong>Incomplete:</strong>');
    expect(html).toContain('<div class="value">20,000</div>');
    // The same figures as a report over SQL, where nothing timed out.
    const whole = await buildReport(async (sql, params) => (await db.executor.query(sql, params)).rows, OPTIONS);
    expect(whole.top_recipients).toHaveLength(10);
    expect(html).toContain(`<strong>${whole.resend.length.toLocaleString('en-US')}</strong> not delivered after`);
  });
});
