import { seededRandom } from '../random';

/**
 * WhatsApp traffic as the alarms meet it, generated from a seed. The shape follows what senders see on WhatsApp
 * (each figure is a parameter, stated here once):
 * - broadcasts go out at Meta's default throughput of 80 messages per second per number;
 * - 1-4 % of a broadcast fails (error codes 131026, 131049, 131047, 131053, weighted as they occur);
 * - 2-8 % is never delivered while the simulation runs (phones off or out of coverage);
 * - deliveries take seconds (log-normal, median 3 s) but 3 % of them come 10 minutes to 6 hours later (a phone that
 *   comes back online);
 * - 30-45 % of recipients have read receipts off; 85 % of the others read, after a long-tailed delay (log-normal,
 *   median 15 minutes, up to two days);
 * - every status is its own webhook request; 5 % are sent twice (provider retries), and each arrives after a
 *   log-normal network delay (median 1 s), so statuses of one message often arrive out of order.
 */

export type Stage = 'sent' | 'delivered' | 'read' | 'failed';
export type Provider = 'aisensy' | 'meta';

export interface StatusEvent {
  messageId: string;
  phone: string;
  campaign: string;
  provider: Provider;
  stage: Stage;
  /** When it happened on WhatsApp (the status' reported time), ms. */
  at: number;
  /** When its webhook reaches the API, ms. */
  arrival: number;
  error?: { code: number; title: string };
}

export interface Broadcast {
  campaign: string;
  start: number;
  recipients: number;
  provider: Provider;
  /** Share of recipients whose message fails. @default random 1-4 % */
  failureShare?: number;
  /** When given, every failure carries this error. */
  failureError?: { code: number; title: string };
  /** Share of recipients who read, among those with read receipts on. @default 0.85 */
  readShareOfReceiptsOn?: number;
  /** Messages per second. @default 80 */
  sendRate?: number;
}

export interface Trickle {
  /** Transactional messages (order updates, OTPs): this many per hour between `from` and `to`. */
  perHour: number;
  from: number;
  to: number;
  /** Message numbers (0-based, in the whole trickle) that are never delivered. */
  undelivered?: number[];
}

/** Real error codes of the WhatsApp Cloud API with their titles (Meta's error code reference). */
export const ERRORS = {
  undeliverable: { code: 131026, title: 'Message undeliverable' },
  ecosystem: { code: 131049, title: 'This message was not delivered to maintain healthy ecosystem engagement.' },
  reEngagement: { code: 131047, title: 'Re-engagement message' },
  media: { code: 131053, title: 'Media upload error' },
};
const WEIGHTED_ERRORS = [
  { error: ERRORS.undeliverable, weight: 5 },
  { error: ERRORS.ecosystem, weight: 3 },
  { error: ERRORS.reEngagement, weight: 1 },
  { error: ERRORS.media, weight: 1 },
];

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

export class TrafficGenerator {
  private readonly rnd: () => number;
  private serial = 0;

  constructor(seed: number) {
    this.rnd = seededRandom(seed);
  }

  uniform(a: number, b: number): number {
    return a + (b - a) * this.rnd();
  }

  /** Log-normal with the given median. */
  logNormal(median: number, sigma: number): number {
    const z = Math.sqrt(-2 * Math.log(this.rnd() || 1e-12)) * Math.cos(2 * Math.PI * this.rnd());
    return median * Math.exp(sigma * z);
  }

  pick<T>(items: readonly { weight: number; error: T }[]): T {
    let r = this.rnd() * items.reduce((s, i) => s + i.weight, 0);
    for (const item of items) {
      r -= item.weight;
      if (r < 0) return item.error;
    }
    return items[0]!.error;
  }

  private phone(): string {
    return `91${String(9_000_000_000 + Math.floor(this.rnd() * 999_999_999))}`;
  }

  /** The statuses of one message sent at `sentAt`, given its fate. */
  private message(
    base: Omit<StatusEvent, 'stage' | 'at' | 'arrival'>,
    sentAt: number,
    fate: { fails?: { code: number; title: string }; neverDelivered: boolean; reads: boolean },
  ): StatusEvent[] {
    const events: Omit<StatusEvent, 'arrival'>[] = [];
    if (fate.fails) {
      // Meta often reports `sent` before a failure; sometimes only the failure.
      if (this.rnd() < 0.5) events.push({ ...base, stage: 'sent', at: sentAt });
      events.push({ ...base, stage: 'failed', at: sentAt + this.uniform(1, 5) * SECOND, error: fate.fails });
    } else {
      events.push({ ...base, stage: 'sent', at: sentAt });
      if (!fate.neverDelivered) {
        const late = this.rnd() < 0.03;
        const deliveredAt =
          sentAt + (late ? this.uniform(10 * MINUTE, 6 * HOUR) : Math.min(10 * MINUTE, this.logNormal(3, 1) * SECOND));
        events.push({ ...base, stage: 'delivered', at: deliveredAt });
        if (fate.reads)
          events.push({
            ...base,
            stage: 'read',
            at: deliveredAt + Math.min(48 * HOUR, this.logNormal(15 * MINUTE, 1.5)),
          });
      }
    }
    const arrivals: StatusEvent[] = [];
    for (const event of events) {
      const arrival = event.at + this.logNormal(1, 0.8) * SECOND;
      arrivals.push({ ...event, arrival });
      if (this.rnd() < 0.05) arrivals.push({ ...event, arrival: arrival + this.uniform(1, 60) * SECOND });
    }
    return arrivals;
  }

  broadcast(b: Broadcast): StatusEvent[] {
    const failureShare = b.failureShare ?? this.uniform(0.01, 0.04);
    const neverDelivered = this.uniform(0.02, 0.08);
    const receiptsOff = this.uniform(0.3, 0.45);
    const readShare = b.readShareOfReceiptsOn ?? 0.85;
    const rate = b.sendRate ?? 80;
    const events: StatusEvent[] = [];
    for (let i = 0; i < b.recipients; i++) {
      const id = this.serial++;
      const base = { messageId: `wamid.sim${id}`, phone: this.phone(), campaign: b.campaign, provider: b.provider };
      const r = this.rnd();
      const fails = r < failureShare ? (b.failureError ?? this.pick(WEIGHTED_ERRORS)) : undefined;
      const never = !fails && r < failureShare + neverDelivered;
      const reads = this.rnd() >= receiptsOff && this.rnd() < readShare;
      events.push(...this.message(base, b.start + (i / rate) * SECOND, { fails, neverDelivered: never, reads }));
    }
    return events;
  }

  trickle(t: Trickle): StatusEvent[] {
    const events: StatusEvent[] = [];
    const count = Math.round(((t.to - t.from) / HOUR) * t.perHour);
    for (let i = 0; i < count; i++) {
      const id = this.serial++;
      const base = {
        messageId: `wamid.sim${id}`,
        phone: this.phone(),
        campaign: 'order_updates',
        provider: 'meta' as const,
      };
      const sentAt = t.from + this.rnd() * (t.to - t.from);
      events.push(
        ...this.message(base, sentAt, { neverDelivered: t.undelivered?.includes(i) ?? false, reads: this.rnd() < 0.5 }),
      );
    }
    return events;
  }

  /**
   * A normal business day starting at `dayStart` (00:00 UTC): 3-5 broadcasts of 500 to 50,000 recipients
   * (log-uniform) between 09:00 and 20:00 IST (03:30-14:30 UTC), and transactional messages all day (20 an hour in
   * business hours, 2 an hour at night).
   */
  businessDay(dayStart: number, label: string): StatusEvent[] {
    const events: StatusEvent[] = [];
    const broadcasts = 3 + Math.floor(this.rnd() * 3);
    for (let i = 0; i < broadcasts; i++) {
      const recipients = Math.round(500 * 100 ** this.rnd());
      const start = dayStart + 3.5 * HOUR + this.rnd() * 11 * HOUR;
      events.push(
        ...this.broadcast({
          campaign: `${label}_b${i}`,
          start,
          recipients,
          provider: this.rnd() < 0.5 ? 'aisensy' : 'meta',
        }),
      );
    }
    events.push(...this.trickle({ perHour: 2, from: dayStart, to: dayStart + 3 * HOUR }));
    events.push(...this.trickle({ perHour: 20, from: dayStart + 3 * HOUR, to: dayStart + 17 * HOUR }));
    events.push(...this.trickle({ perHour: 2, from: dayStart + 17 * HOUR, to: dayStart + 24 * HOUR }));
    return events;
  }
}

/** Statuses that happened inside [from, to) happen `to` + a short delay instead (WhatsApp stopped delivering). */
export function delayDeliveries(events: StatusEvent[], from: number, to: number, rnd: () => number): StatusEvent[] {
  const shift = new Map<string, number>();
  for (const e of events) {
    if (e.stage === 'delivered' && e.at >= from && e.at < to) shift.set(e.messageId, to + rnd() * 5 * MINUTE - e.at);
  }
  return events.map((e) => {
    const by = shift.get(e.messageId);
    if (by === undefined || (e.stage !== 'delivered' && e.stage !== 'read')) return e;
    return { ...e, at: e.at + by, arrival: e.arrival + by };
  });
}

/** Webhooks due inside [from, to) arrive after `to` instead (the provider stopped calling, then retried). */
export function holdArrivals(events: StatusEvent[], from: number, to: number, rnd: () => number): StatusEvent[] {
  return events.map((e) => (e.arrival >= from && e.arrival < to ? { ...e, arrival: to + rnd() * 10 * MINUTE } : e));
}
