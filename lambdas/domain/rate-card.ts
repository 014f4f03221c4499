import * as z from 'zod';

/**
 * A user-supplied rate card: the price of one billable message by pricing category and country calling code. Meta
 * prices per delivered message since July 2025 (per-message pricing, `pricing_model` PMP) by category and the
 * recipient's market; prices change (and differ by volume tier), so the card is the user's to keep current against
 * Meta's rate card. The estimate is only as good as the card.
 *
 * File shape (JSON): `{"currency": "USD", "rates": {"marketing": {"91": 0.0118, "1": 0.025, "*": 0.0600}, ...}}`.
 * A rate's key is a country calling code (digits, without `+`) or `*`, the category's price for every other code.
 */

const price = z.number().nonnegative().finite();
const callingCode = z.string().regex(/^(\d{1,4}|\*)$/, 'a country calling code (1 to 4 digits) or *');

export const RateCard = z.looseObject({
  currency: z.string().trim().min(1),
  /** Where the prices were taken from and when: shown with every estimate. */
  source: z.string().optional(),
  rates: z.record(z.string().trim().min(1), z.record(callingCode, price)),
});
export type RateCard = z.infer<typeof RateCard>;

/** A rate card from a file's text, or an Error that names the file and every problem in it. */
export function parseRateCard(text: string, file: string): RateCard {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new Error(`--rates ${file}: ${(error as Error).message}`);
  }
  const card = RateCard.safeParse(raw);
  if (!card.success)
    throw new Error(
      `--rates ${file}: ${card.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`).join('; ')}`,
    );
  return card.data;
}

/** The card's calling code for a number (or its first digits): the longest code of the card that prefixes it. */
export function callingCodeOf(digits: string | null, card: RateCard): string | undefined {
  if (!digits) return undefined;
  const codes = new Set(Object.values(card.rates).flatMap((byCode) => Object.keys(byCode)));
  for (let length = Math.min(4, digits.length); length >= 1; length--) {
    const prefix = digits.slice(0, length);
    if (codes.has(prefix)) return prefix;
  }
  return undefined;
}

/** The price of one billable message of `category` to a number starting with `digits`, or undefined if the card has none. */
export function ratePerMessage(card: RateCard, category: string | null, digits: string | null): number | undefined {
  if (!category) return undefined;
  const byCode = card.rates[category];
  if (!byCode) return undefined;
  const code = callingCodeOf(digits, card);
  return (code !== undefined ? byCode[code] : undefined) ?? byCode['*'];
}

/**
 * Whether Meta charges a message: its `billable` when Meta sent one; otherwise by `type` (only `regular` messages
 * are charged: `free_customer_service` and `free_entry_point` are not), since newer API versions drop `billable`.
 * Undefined when the message has no pricing at all (not yet reported, or a provider that does not forward it).
 */
export function isBillable(billable: boolean | null, type: string | null): boolean | undefined {
  if (billable !== null) return billable;
  if (type === null) return undefined;
  return type === 'regular';
}
