import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_COHORTS } from '../../lambdas/domain/alert-settings';
import { normalizeWebhook } from '../../lambdas/domain/normalize-webhook';
import { RateCard } from '../../lambdas/domain/rate-card';
import type { StatusUpdate } from '../../lambdas/domain/status-update';
import { NO_RESEND_CODES } from '../../lambdas/domain/whatsapp-errors';
import { buildCostReport } from '../../lambdas/report/cost-report';
import { buildReport, type Report } from '../../lambdas/report/report-data';
import { SqlTrackerStore } from '../../lambdas/store/sql-tracker-store';
import {
  FUTURE_PRICING,
  GUPSHUP_V3_PMP_SENT,
  META_DELIVERED_MARKETING,
  META_FREE_SERVICE_AND_UTILITY,
  PRICING_WITHOUT_BILLABLE,
} from '../fixtures/pricing-payloads';
import { availableEngines, createTestDatabase, type TestDatabase } from '../support/databases';

const at = (hms: string, day = '2024-06-01') => `${day}T${hms}.000Z`;
const u = (
  message_id: string,
  status: StatusUpdate['status'],
  time: string,
  extra: Partial<StatusUpdate> = {},
): StatusUpdate => ({ message_id, status, timestamp: time, ...extra });

/** A fixed day of messages; every expected figure below is worked out by hand from it. */
const PMP = { pricing_model: 'PMP' };
const DATA: StatusUpdate[] = [
  u('a1', 'sent', at('10:00:00'), { campaign: 'A', phone_number: '+911' }),
  // Meta's per-message pricing (2025): billable and type; a2's lacks billable (newer API versions drop it).
  u('a1', 'delivered', at('10:00:04'), {
    pricing: { ...PMP, billable: true, category: 'marketing', type: 'regular' },
  }),
  u('a1', 'read', at('10:10:04')),
  u('a2', 'sent', at('10:30:00'), { campaign: 'A', phone_number: '+912' }),
  u('a2', 'delivered', at('10:30:10'), { pricing: { ...PMP, category: 'marketing', type: 'regular' } }),
  u('a3', 'sent', at('11:00:00'), { campaign: 'A', phone_number: '+911' }),
  u('a3', 'read', at('11:30:00')), // delivered inferred
  u('b1', 'sent', at('11:15:00'), { campaign: 'B', phone_number: '+913' }),
  u('b1', 'failed', at('11:15:02'), { error: { code: 131026, title: 'Message undeliverable' } }),
  u('b2', 'sent', at('12:00:00'), { campaign: 'B', phone_number: '+914' }),
  u('b2', 'failed', at('12:00:03'), { error: { code: 131049, title: 'ecosystem engagement' } }),
  u('b3', 'sent', at('12:30:00'), { campaign: 'B', phone_number: '+913' }),
  u('b3', 'delivered', at('12:30:20'), {
    pricing: { ...PMP, billable: false, category: 'utility', type: 'free_customer_service' },
  }),
  u('b3', 'read', at('12:32:20')),
  u('n1', 'sent', at('13:00:00'), { phone_number: '+915' }), // no campaign, never delivered
  u('out', 'sent', at('01:00:00', '2024-06-02'), { campaign: 'A', phone_number: '+916' }), // outside the period
];

/** Documented pricing payloads, through the real parser and the real SQL, into the cost report. */
const PAYLOADS = [
  META_DELIVERED_MARKETING,
  META_FREE_SERVICE_AND_UTILITY,
  GUPSHUP_V3_PMP_SENT,
  PRICING_WITHOUT_BILLABLE,
  FUTURE_PRICING,
];

const CARD = RateCard.parse({
  currency: 'USD',
  rates: {
    marketing: { '1': 0.025, '91': 0.0107, '*': 0.06 },
    utility: { '44': 0.022, '*': 0.0077 },
    marketing_lite: { '91': 0.005 },
  },
});

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

  it("re-send list: not delivered after the stack's undeliveredAfterMinutes (default 10), or failed with a fixable error", async () => {
    // b2 failed with 131049 (retry later): listed. b1 failed with 131026 (undeliverable): a re-send cannot succeed.
    expect(report.resend).toEqual([
      {
        message_id: 'b2',
        phone_number: '+914',
        campaign: 'B',
        sent_at: at('12:00:00'),
        minutes_waiting: 720,
        failed_at: at('12:00:03'),
        error_code: 131049,
      },
      {
        message_id: 'n1',
        phone_number: '+915',
        campaign: null,
        sent_at: at('13:00:00'),
        minutes_waiting: 660,
        failed_at: null,
        error_code: null,
      },
    ]);
    expect(report.resend_after_minutes).toBe(DEFAULT_COHORTS.undeliveredAfterMinutes);
    // n1 has waited 660 minutes at the end of the period: a longer setting leaves it out, and the report says which.
    // A failure is final: it stays in the list whatever the setting.
    const later = await buildReport(query, {
      from: new Date('2024-06-01T00:00:00Z'),
      to: new Date('2024-06-02T00:00:00Z'),
      undeliveredAfterMinutes: 721,
    });
    expect([later.resend.map((r) => r.message_id), later.resend_after_minutes]).toEqual([['b2'], 721]);
  });

  it('the re-send list leaves out the codes the catalogue passes in, and counts them by code', async () => {
    expect(NO_RESEND_CODES).toContain(131026);
    expect(report.resend_left_out).toEqual([{ error_code: 131026, error_title: 'Message undeliverable', messages: 1 }]);
    // The SQL holds no list of its own: with no codes passed, b1 is listed and nothing is left out.
    const asOf = '2024-06-02T00:00:00Z';
    const all = await query('select message_id from resend_list(10, 24, $1, $2)', [asOf, []]);
    expect(all.map((r) => r.message_id)).toEqual(['b1', 'b2', 'n1']);
    expect(await query('select * from resend_left_out(24, $1, $2)', [asOf, []])).toEqual([]);
  });

  it('pricing: category, type, model and billable as columns, from the kept JSONB', async () => {
    const rows = await query(
      `select message_id, pricing_category, pricing_type, pricing_model, pricing_billable
         from broadcasts_messages where message_id in ('a1', 'a2', 'b3', 'n1') order by message_id`,
    );
    expect(rows).toEqual([
      {
        message_id: 'a1',
        pricing_category: 'marketing',
        pricing_type: 'regular',
        pricing_model: 'PMP',
        pricing_billable: true,
      },
      {
        message_id: 'a2',
        pricing_category: 'marketing',
        pricing_type: 'regular',
        pricing_model: 'PMP',
        pricing_billable: null,
      },
      {
        message_id: 'b3',
        pricing_category: 'utility',
        pricing_type: 'free_customer_service',
        pricing_model: 'PMP',
        pricing_billable: false,
      },
      { message_id: 'n1', pricing_category: null, pricing_type: null, pricing_model: null, pricing_billable: null },
    ]);
  });

  it('pricing breakdown: messages of the period by campaign, pricing and number prefix', () => {
    const rows = report.pricing.map((p) => [
      p.campaign,
      p.pricing_category,
      p.pricing_type,
      p.pricing_billable,
      p.phone_prefix,
      p.messages,
    ]);
    expect(rows).toEqual(
      expect.arrayContaining([
        ['A', 'marketing', 'regular', true, '911', 1],
        ['A', 'marketing', 'regular', null, '912', 1],
        ['A', null, null, null, '911', 1], // a3: no pricing reported
        ['B', 'utility', 'free_customer_service', false, '913', 1],
        ['B', null, null, null, '913', 1], // b1
        ['B', null, null, null, '914', 1], // b2
        ['(none)', null, null, null, '915', 1],
      ]),
    );
    expect(report.pricing.reduce((sum, p) => sum + p.messages, 0)).toBe(report.overall.total_messages);
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

  describe('documented pricing payloads, their columns and the cost report', () => {
    // Another day (2025-06-15) in the same database: the report of 2024-06-01 above is not touched by it.
    let report: Report;

    beforeAll(async () => {
      const updates = PAYLOADS.flatMap((body) => {
        const result = normalizeWebhook(body);
        expect(result.rejected).toEqual([]);
        return result.updates;
      });
      await new SqlTrackerStore(db.executor).applyStatusUpdates(updates);
      report = await buildReport(query, {
        from: new Date('2025-06-15T00:00:00Z'),
        to: new Date('2025-06-16T00:00:00Z'),
      });
    });

    it('keeps the whole pricing object, unknown keys included, and derives the four columns from it', async () => {
      const rows = await query(
        `select message_id, pricing, pricing_category, pricing_type, pricing_model, pricing_billable
           from broadcasts_messages where message_id like 'wamid.%' order by message_id`,
      );
      const byId = Object.fromEntries(rows.map((r) => [r.message_id, r]));
      expect(byId['wamid.FUTURE-LITE']).toMatchObject({
        pricing: {
          billable: true,
          pricing_model: 'PMP',
          category: 'marketing_lite',
          type: 'regular',
          tier: { band: 3 },
        },
        pricing_category: 'marketing_lite',
        pricing_billable: true,
      });
      expect(byId['wamid.NO-BILLABLE-UTILITY']).toMatchObject({
        pricing_category: 'utility',
        pricing_type: 'regular',
        pricing_model: 'PMP',
        pricing_billable: null,
      });
      // "true" as a string is not a boolean: left unknown rather than guessed.
      expect(byId['wamid.FUTURE-AI']).toMatchObject({ pricing_category: 'general_purpose_ai', pricing_billable: null });
      expect(byId['wamid.FREE-SERVICE-1']).toMatchObject({
        pricing_type: 'free_customer_service',
        pricing_billable: false,
      });
      expect(rows).toHaveLength(9);
    });

    it('the columns are queryable: messages by category and billable', async () => {
      const rows = await query(
        `select pricing_category, pricing_billable, count(*)::int as messages from broadcasts_messages
          where message_id like 'wamid.%' group by 1, 2 order by 1, 2`,
      );
      expect(rows).toEqual([
        { pricing_category: 'authentication_international', pricing_billable: true, messages: 1 },
        { pricing_category: 'general_purpose_ai', pricing_billable: null, messages: 1 },
        { pricing_category: 'marketing', pricing_billable: true, messages: 2 },
        { pricing_category: 'marketing', pricing_billable: null, messages: 1 },
        { pricing_category: 'marketing_lite', pricing_billable: true, messages: 1 },
        { pricing_category: 'service', pricing_billable: false, messages: 1 },
        { pricing_category: 'utility', pricing_billable: false, messages: 1 },
        { pricing_category: 'utility', pricing_billable: null, messages: 1 },
      ]);
    });

    it('estimates spend per campaign from the rate card: billable x price by category and calling code', () => {
      const cost = buildCostReport(report, CARD);
      const line = (campaign: string, category: string) =>
        cost.lines.find((l) => l.campaign === campaign && l.category === category);
      // +1 650...: marketing at 0.025; +55 ... free_entry_point: free.
      expect(line('summer_sale', 'marketing')).toEqual({
        campaign: 'summer_sale',
        category: 'marketing',
        messages: 2,
        billable: 1,
        free: 1,
        unpriced: 0,
        estimated_cost: 0.025,
      });
      // +91 marketing_lite at 0.005.
      expect(line('summer_sale', 'marketing_lite')).toMatchObject({ billable: 1, estimated_cost: 0.005 });
      // +44 utility without billable, type regular: charged at the +44 price.
      expect(line('order_updates', 'utility')).toMatchObject({
        messages: 2,
        billable: 1,
        free: 1,
        estimated_cost: 0.022,
      });
      // +91 marketing (the Gupshup example) at 0.0107; authentication_international has no price: unpriced.
      expect(line('(none)', 'marketing')).toMatchObject({ billable: 1, estimated_cost: 0.0107 });
      expect(line('(none)', 'authentication_international')).toMatchObject({
        billable: 1,
        unpriced: 1,
        estimated_cost: 0,
      });
      expect(cost.totals).toEqual({
        messages: 9,
        // summer_sale 1 + 1, order_updates 1, (none): marketing 1, auth intl 1; the AI one has no trusted billable
        // and type regular: charged.
        billable: 6,
        free: 3,
        unpriced: 2,
        estimated_cost: 0.0627,
      });
      expect(cost.campaigns.map((c) => [c.campaign, c.estimated_cost])).toEqual([
        ['(none)', 0.0107],
        ['order_updates', 0.022],
        ['summer_sale', 0.03],
      ]);
    });

    it('the sample rate card in docs/ is a valid card', () => {
      const file = path.join(__dirname, '..', '..', 'docs', 'rates.sample.json');
      const card = RateCard.parse(JSON.parse(readFileSync(file, 'utf8')));
      expect(card.currency).toBe('USD');
      expect(String((card as Record<string, unknown>).note)).toMatch(/prices change/);
    });
  });
});
