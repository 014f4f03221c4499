import { callingCodeOf, isBillable, parseRateCard, RateCard, ratePerMessage } from '../../lambdas/domain/rate-card';
import { buildCostReport, formatCostReport } from '../../lambdas/report/cost-report';
import { sampleReport } from '../fixtures/report';

const card = RateCard.parse({
  currency: 'USD',
  source: 'test card',
  rates: { marketing: { '1': 0.025, '1876': 0.03, '91': 0.0107, '*': 0.06 }, utility: { '91': 0.0014 } },
});

describe('the rate card', () => {
  it('finds the longest calling code of the card that prefixes the number', () => {
    expect(callingCodeOf('9198', card)).toBe('91');
    expect(callingCodeOf('1876', card)).toBe('1876'); // Jamaica inside +1
    expect(callingCodeOf('1650', card)).toBe('1');
    expect(callingCodeOf('4477', card)).toBeUndefined();
    expect(callingCodeOf(null, card)).toBeUndefined();
  });

  it("prices by category and code, falling back to the category's *, and knows no price for the rest", () => {
    expect(ratePerMessage(card, 'marketing', '9198')).toBe(0.0107);
    expect(ratePerMessage(card, 'marketing', '4477')).toBe(0.06);
    expect(ratePerMessage(card, 'utility', '4477')).toBeUndefined();
    expect(ratePerMessage(card, 'authentication', '9198')).toBeUndefined();
    expect(ratePerMessage(card, null, '9198')).toBeUndefined();
  });

  it('charges by billable when Meta sent it, else by type (only regular is charged)', () => {
    expect(isBillable(true, 'free_customer_service')).toBe(true);
    expect(isBillable(false, 'regular')).toBe(false);
    expect(isBillable(null, 'regular')).toBe(true);
    expect(isBillable(null, 'free_entry_point')).toBe(false);
    expect(isBillable(null, null)).toBeUndefined();
  });

  it('refuses a file that is not a card, naming the file and the problem', () => {
    expect(() => parseRateCard('{', 'rates.json')).toThrow(/^--rates rates.json: /);
    expect(() => parseRateCard('{"rates": {}}', 'rates.json')).toThrow(/--rates rates.json: currency/);
    expect(() => parseRateCard('{"currency": "USD", "rates": {"marketing": {"+91": 1}}}', 'r.json')).toThrow(
      /rates\.marketing\.\+91/,
    );
    expect(() => parseRateCard('{"currency": "USD", "rates": {"marketing": {"91": -1}}}', 'r.json')).toThrow(
      /rates\.marketing\.91/,
    );
  });
});

describe('the cost report', () => {
  const row = (
    campaign: string,
    category: string | null,
    billable: boolean | null,
    prefix: string,
    messages: number,
  ) => ({
    campaign,
    pricing_category: category,
    pricing_type: category ? 'regular' : null,
    pricing_model: category ? 'PMP' : null,
    pricing_billable: billable,
    phone_prefix: prefix,
    messages,
  });
  const report = sampleReport({
    pricing: [
      row('diwali', 'marketing', true, '9198', 1000),
      row('diwali', 'marketing', true, '1650', 10),
      row('diwali', 'marketing', false, '9198', 5),
      row('diwali', null, null, '9198', 20),
      row('orders', 'utility', true, '4477', 3),
    ],
  });

  it('counts without a card and says how to add one', () => {
    const cost = buildCostReport(report);
    expect(cost.totals).toEqual({ messages: 1038, billable: 1013, free: 5, unpriced: 0, estimated_cost: null });
    const text = formatCostReport(cost);
    expect(text).toMatch(/diwali +marketing +1,015 +1,010 +5 +-/);
    expect(text).toContain('No rate card: counts only');
    expect(text).toContain('20 messages have no pricing yet');
  });

  it('estimates with a card, keeps unpriced messages out of the sum and says so', () => {
    const cost = buildCostReport(report, card);
    expect(cost.campaigns).toEqual([
      { campaign: 'diwali', messages: 1035, billable: 1010, free: 5, unpriced: 0, estimated_cost: 10.95 },
      { campaign: 'orders', messages: 3, billable: 3, free: 0, unpriced: 3, estimated_cost: 0 },
    ]);
    expect(cost.totals).toMatchObject({ estimated_cost: 10.95, unpriced: 3 });
    const text = formatCostReport(cost);
    expect(text).toMatch(/all +1,038 +1,013 +5 +10\.95 USD/);
    expect(text).toContain('Estimated from your rate card (test card)');
    expect(text).toContain("check the card against Meta's current rate card");
    expect(text).toContain('3 billable messages have no price in the card');
  });
});
