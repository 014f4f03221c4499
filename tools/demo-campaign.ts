import { providerWebhook, type WebhookFormat } from './provider-webhooks';
import { seededRandom as random } from './random';

/** Real WhatsApp Cloud API error codes with their titles, weighted roughly as they occur. */
const FAILURES = [
  { code: 131026, title: 'Message undeliverable', weight: 5 },
  { code: 131049, title: 'This message was not delivered to maintain healthy ecosystem engagement.', weight: 3 },
  { code: 131047, title: 'Re-engagement message', weight: 1 },
  { code: 131053, title: 'Media upload error', weight: 1 },
];

/** Log-normal delay in seconds with the given median: most fast, a long tail (phones offline, people busy). */
const logNormal = (rnd: () => number, medianSeconds: number, sigma: number) => {
  const z = Math.sqrt(-2 * Math.log(rnd() || 1e-9)) * Math.cos(2 * Math.PI * rnd());
  return medianSeconds * Math.exp(sigma * z);
};

type Stage = 'sent' | 'delivered' | 'read' | 'failed';
interface Event {
  messageId: string;
  phone: string;
  campaign: string;
  stage: Stage;
  at: number;
  error?: { code: number; title: string };
  pricing?: Record<string, unknown>;
}

/**
 * Meta's per-message pricing (2025) of a delivered demo message: the two promotions are marketing, order updates
 * utility, three in ten of them free inside a customer service window. Drawn from the index, not the random
 * stream, so the demo's other figures stay as they were.
 */
function demoPricing(campaign: string, i: number): Record<string, unknown> {
  if (campaign !== 'order_updates')
    return { billable: true, pricing_model: 'PMP', category: 'marketing', type: 'regular' };
  return i % 10 < 3
    ? { billable: false, pricing_model: 'PMP', category: 'utility', type: 'free_customer_service' }
    : { billable: true, pricing_model: 'PMP', category: 'utility', type: 'regular' };
}

/**
 * Webhooks for `messages` messages of three campaigns sent over the last two hours (times never in the future):
 * ~4 % fail, ~93 % are delivered (median 3 s), ~60 % of those read (median 20 minutes). Each event goes out in one of
 * the three formats; 10 % are sent twice; the list is shuffled, so stages arrive out of order.
 */
export function buildDemoWebhooks(messages: number, now: Date, seed = 7): unknown[] {
  const rnd = random(seed);
  const end = now.getTime();
  const campaigns = ['diwali_offer', 'order_updates', 'winback_nov'];
  const events: Event[] = [];
  for (let i = 0; i < messages; i++) {
    const messageId = `wamid.demo${seed}x${i}`;
    const phone = `91${String(9_000_000_000 + Math.floor(rnd() * 999_999_999))}`;
    const campaign = campaigns[i % campaigns.length]!;
    const sentAt = end - 2 * 3_600_000 + Math.floor(rnd() * 2 * 3_600_000) - 60_000;
    const base = { messageId, phone, campaign };
    events.push({ ...base, stage: 'sent', at: sentAt });
    const r = rnd();
    if (r < 0.04) {
      // A failure drawn by weight: walk the cumulative weights until they pass a uniform pick.
      const pick = rnd() * FAILURES.reduce((s, f) => s + f.weight, 0);
      let cumulative = 0;
      const failure =
        FAILURES.find((f) => {
          cumulative += f.weight;
          return pick < cumulative;
        }) ?? FAILURES[0]!;
      events.push({
        ...base,
        stage: 'failed',
        at: sentAt + 1_500,
        error: { code: failure.code, title: failure.title },
      });
      continue;
    }
    if (r < 0.07) continue; // still on its way: the re-send list
    const deliveredAt = sentAt + Math.round(1000 * Math.min(3_600, logNormal(rnd, 3, 1.2)));
    if (deliveredAt >= end) continue;
    events.push({ ...base, stage: 'delivered', at: deliveredAt, pricing: demoPricing(campaign, i) });
    if (rnd() < 0.6) {
      const readAt = deliveredAt + Math.round(1000 * logNormal(rnd, 1_200, 1.3));
      if (readAt < end) events.push({ ...base, stage: 'read', at: readAt });
    }
  }
  const withRetries = [...events, ...events.filter(() => rnd() < 0.1)];
  for (let i = withRetries.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [withRetries[i], withRetries[j]] = [withRetries[j]!, withRetries[i]!];
  }
  // The flat format carries no campaign: a message's `sent` goes out as AiSensy or Meta, so every message has one.
  const formats: WebhookFormat[] = ['aisensy', 'meta', 'flat'];
  return withRetries.map((e, i) => providerWebhook(e, formats[e.stage === 'sent' ? i % 2 : i % 3]!));
}
