import type { StatusUpdate } from '../lambdas/domain/status-update';
import { seededRandom as random } from '../tools/random';

const BASE = Date.UTC(2024, 5, 1, 10, 0, 0);

/**
 * `updates` status updates over `messages` messages as webhooks deliver them: every message sent, most delivered,
 * many read, a few failed; duplicates (provider retries) fill up to the requested count; the whole list shuffled,
 * so stages arrive out of order.
 */
export function statusWorkload(updates: number, messages: number, seed = 42): StatusUpdate[] {
  const rnd = random(seed);
  const base: StatusUpdate[] = [];
  for (let m = 0; m < messages; m++) {
    const id = `wamid.bench${m}`;
    const phone = `+9198${String(10_000_000 + m).slice(-8)}`;
    const sent = BASE + Math.floor(rnd() * 3_600_000);
    base.push({
      message_id: id,
      status: 'sent',
      timestamp: new Date(sent).toISOString(),
      phone_number: phone,
      campaign: `c${m % 7}`,
    });
    const r = rnd();
    if (r < 0.03) {
      base.push({
        message_id: id,
        status: 'failed',
        timestamp: new Date(sent + 2_000).toISOString(),
        error: { code: 131026, title: 'Message undeliverable' },
      });
      continue;
    }
    const delivered = sent + 500 + Math.floor(rnd() * 20_000);
    base.push({ message_id: id, status: 'delivered', timestamp: new Date(delivered).toISOString() });
    if (rnd() < 0.6)
      base.push({
        message_id: id,
        status: 'read',
        timestamp: new Date(delivered + Math.floor(rnd() * 3_600_000)).toISOString(),
      });
  }
  const all = [...base];
  while (all.length < updates) all.push(base[Math.floor(rnd() * base.length)]!);
  all.length = Math.min(all.length, updates);
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  return all;
}

/** Splits `items` round-robin into `n` lists (what n concurrent writers each receive). */
export function split<T>(items: readonly T[], n: number): T[][] {
  const out: T[][] = Array.from({ length: n }, () => []);
  for (const [i, item] of items.entries()) out[i % n]!.push(item);
  return out;
}
