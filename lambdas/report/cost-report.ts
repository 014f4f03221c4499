import { isBillable, type RateCard, ratePerMessage } from '../domain/rate-card';
import { formatCount as n } from './number-format';
import type { Report } from './report-data';
import { table } from './report-format';

/**
 * What a period's messages cost: messages by campaign and pricing category, how many Meta charges, and (with a
 * rate card) an estimated spend. `npm run report -- --cost [--rates FILE] [--json]`. See docs/operate.md.
 */

export interface CostLine {
  campaign: string;
  /** Meta's pricing category, or `(no pricing)` for messages whose statuses carried none. */
  category: string;
  messages: number;
  billable: number;
  /** Messages Meta does not charge (free_customer_service, free_entry_point, billable false). */
  free: number;
  /** Billable messages the rate card has no price for (left out of `estimated_cost`). */
  unpriced: number;
  /** Billable messages x their price; null without a rate card. */
  estimated_cost: number | null;
}

export interface CostReport {
  from: string;
  to: string;
  currency: string | null;
  rate_source: string | null;
  lines: CostLine[];
  campaigns: Omit<CostLine, 'category'>[];
  totals: Omit<CostLine, 'campaign' | 'category'>;
}

export const NO_PRICING = '(no pricing)';
/** Money in the JSON: rounded to 6 decimals, so sums of floats do not show 0.30000000000000004. */
const money = (value: number) => Math.round(value * 1e6) / 1e6;

/** The cost report of a report's `pricing` rows, priced with `card` when there is one. */
export function buildCostReport(report: Report, card?: RateCard): CostReport {
  const lines = new Map<string, CostLine>();
  for (const row of report.pricing) {
    const category = row.pricing_category ?? NO_PRICING;
    const key = JSON.stringify([row.campaign, category]);
    const line = lines.get(key) ?? {
      campaign: row.campaign,
      category,
      messages: 0,
      billable: 0,
      free: 0,
      unpriced: 0,
      estimated_cost: card ? 0 : null,
    };
    line.messages += row.messages;
    const charged = isBillable(row.pricing_billable, row.pricing_type);
    if (charged === true) {
      line.billable += row.messages;
      if (card) {
        const rate = ratePerMessage(card, row.pricing_category, row.phone_prefix);
        if (rate === undefined) line.unpriced += row.messages;
        else line.estimated_cost = money((line.estimated_cost ?? 0) + rate * row.messages);
      }
    } else if (charged === false) line.free += row.messages;
    lines.set(key, line);
  }
  const sorted = [...lines.values()].sort(
    (a, b) => a.campaign.localeCompare(b.campaign) || b.messages - a.messages || a.category.localeCompare(b.category),
  );
  const sum = <T extends Omit<CostLine, 'campaign' | 'category'>>(rows: CostLine[], total: T): T => {
    for (const l of rows) {
      total.messages += l.messages;
      total.billable += l.billable;
      total.free += l.free;
      total.unpriced += l.unpriced;
      if (total.estimated_cost !== null) total.estimated_cost = money(total.estimated_cost + (l.estimated_cost ?? 0));
    }
    return total;
  };
  const zero = { messages: 0, billable: 0, free: 0, unpriced: 0, estimated_cost: card ? 0 : null };
  const campaigns = [...new Set(sorted.map((l) => l.campaign))].map((campaign) =>
    sum(
      sorted.filter((l) => l.campaign === campaign),
      { campaign, ...zero },
    ),
  );
  return {
    from: report.from,
    to: report.to,
    currency: card?.currency ?? null,
    rate_source: card?.source ?? null,
    lines: sorted,
    campaigns,
    totals: sum(sorted, { ...zero }),
  };
}

const spend = (value: number | null, currency: string | null) =>
  value === null ? '-' : `${value.toFixed(2)}${currency ? ` ${currency}` : ''}`;

/** The cost report as text: one table by campaign and category, the totals, and what the estimate rests on. */
export function formatCostReport(cost: CostReport): string {
  const rows = cost.lines.map((l) => [
    l.campaign,
    l.category,
    n(l.messages),
    n(l.billable),
    n(l.free),
    spend(l.estimated_cost, cost.currency),
  ]);
  const t = cost.totals;
  rows.push(['all', '', n(t.messages), n(t.billable), n(t.free), spend(t.estimated_cost, cost.currency)]);
  const out = [
    `WhatsApp message cost ${cost.from} .. ${cost.to} (UTC)`,
    '',
    table(['campaign', 'category', 'messages', 'billable', 'free', 'estimated spend'], rows),
    '',
  ];
  if (cost.currency === null)
    out.push('No rate card: counts only. Add --rates FILE for an estimated spend (see docs/operate.md).');
  else {
    out.push(
      `Estimated from your rate card${cost.rate_source ? ` (${cost.rate_source})` : ''}: billable messages x the price of their category and country calling code.`,
      "Meta's prices change and depend on volume tiers: check the card against Meta's current rate card before relying on it.",
    );
    if (t.unpriced > 0)
      out.push(`${n(t.unpriced)} billable messages have no price in the card and are not in the estimate.`);
  }
  const unknown = cost.lines.filter((l) => l.category === NO_PRICING).reduce((s, l) => s + l.messages, 0);
  if (unknown > 0)
    out.push(`${n(unknown)} messages have no pricing yet (Meta sends it with the sent or delivered status).`);
  return out.join('\n');
}
