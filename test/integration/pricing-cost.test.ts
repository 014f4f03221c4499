import { readFileSync } from 'node:fs';
import path from 'node:path';
import { normalizeWebhook } from '../../lambdas/domain/normalize-webhook';
import { RateCard } from '../../lambdas/domain/rate-card';
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

describe.each(availableEngines())('pricing columns and the cost report on %s', (engine) => {
  let db: TestDatabase;
  let report: Report;
  const query = async (sql: string, params: unknown[] = []) => (await db.executor.query(sql, params)).rows;

  beforeAll(async () => {
    db = await createTestDatabase(engine);
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
  afterAll(() => db.drop());

  it('keeps the whole pricing object, unknown keys included, and derives the four columns from it', async () => {
    const rows = await query(
      `select message_id, pricing, pricing_category, pricing_type, pricing_model, pricing_billable
         from broadcasts_messages order by message_id`,
    );
    const byId = Object.fromEntries(rows.map((r) => [r.message_id, r]));
    expect(byId['wamid.FUTURE-LITE']).toMatchObject({
      pricing: { billable: true, pricing_model: 'PMP', category: 'marketing_lite', type: 'regular', tier: { band: 3 } },
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
        group by 1, 2 order by 1, 2`,
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
