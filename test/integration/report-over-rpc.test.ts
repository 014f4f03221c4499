import type { StatusUpdate } from '../../lambdas/domain/status-update';
import { buildReport, buildReportWith } from '../../lambdas/report/report-data';
import { sqlReportFunctionCall } from '../../lambdas/store/report-functions';
import { SqlTrackerStore } from '../../lambdas/store/sql-tracker-store';
import { SupabaseTrackerStore } from '../../lambdas/store/supabase-tracker-store';
import { availableEngines, createTestDatabase, type TestDatabase } from '../support/databases';
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
          'unread_messages',
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
