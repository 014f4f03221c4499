import { seededRandom } from '../random';
import type { Notification } from './cloudwatch';
import type { Faults } from './simulated-pipeline';
import { delayDeliveries, ERRORS, holdArrivals, type StatusEvent, TrafficGenerator } from './traffic';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** Monday 2 March 2026, 00:00 UTC: every scenario starts on a day boundary. */
export const SIMULATION_EPOCH = Date.UTC(2026, 2, 2);

export interface Expectation {
  /** The alarm (settings name) or `failureSpike` (the sweeper's notification). */
  alarm: string;
  severity: 'critical' | 'warning';
  /** A notification must arrive within this many minutes of the onset. */
  withinMinutes?: number;
  /** It must be OK again before the simulation ends. */
  recovers?: boolean;
  /** The notification must contain this text (e.g. the error code). */
  mentions?: string;
}

export interface ScenarioSetup {
  events: StatusEvent[];
  faults?: Faults;
  start: number;
  end: number;
  /** When the incident begins (none for healthy traffic). */
  onset?: number;
}

export interface Scenario {
  name: string;
  description: string;
  setup: (seed: number) => ScenarioSetup;
  /** Notifications that must come. Any other ALARM notification is false, unless `allowed`. */
  expect: Expectation[];
  /** Alarms that may also fire, as true consequences of the incident (statuses really lost or late). */
  allowed?: string[];
  /** Part of the short suite CI runs on every change (all scenarios run in CI; this marks the fast ones). */
  quick?: boolean;
}

const at = (day: number, hour: number, minute = 0) => SIMULATION_EPOCH + day * DAY + hour * HOUR + minute * MINUTE;

/** A business day's transactional trickle plus one 50,000-recipient broadcast at 10:00 UTC (15:30 in India). */
function broadcastDay(generator: TrafficGenerator, provider: 'meta' | 'aisensy' = 'meta'): StatusEvent[] {
  return [
    ...generator.trickle({ perHour: 20, from: at(0, 0), to: at(0, 18) }),
    ...generator.broadcast({ campaign: 'sale_50k', start: at(0, 10), recipients: 50_000, provider }),
  ];
}

export const SCENARIOS: Scenario[] = [
  {
    name: 'normal-week',
    description:
      'Seven business days: 3-5 broadcasts a day of 500-50,000 recipients, transactional messages, quiet nights',
    setup: (seed) => {
      const generator = new TrafficGenerator(seed);
      const events = Array.from({ length: 7 }, (_, day) => generator.businessDay(at(day, 0), `day${day + 1}`)).flat();
      return { events, start: at(0, 0), end: at(7, 0) };
    },
    expect: [],
  },
  {
    name: 'quiet-day',
    description: 'A few transactional messages an hour all day, one never delivered',
    setup: (seed) => {
      const generator = new TrafficGenerator(seed);
      return {
        events: generator.trickle({ perHour: 4, from: at(0, 0), to: at(1, 0), undelivered: [37] }),
        start: at(0, 0),
        end: at(1, 0),
      };
    },
    expect: [],
    quick: true,
  },
  {
    name: 'delivery-stop',
    description: 'WhatsApp stops delivering 5 minutes into a 50,000 broadcast, for 45 minutes',
    setup: (seed) => {
      const generator = new TrafficGenerator(seed);
      const events = delayDeliveries(broadcastDay(generator), at(0, 10, 5), at(0, 10, 50), seededRandom(seed + 1));
      return { events, start: at(0, 6), end: at(0, 14), onset: at(0, 10, 5) };
    },
    expect: [{ alarm: 'deliveryRate', severity: 'critical', withinMinutes: 20, recovers: true }],
    allowed: ['undelivered', 'deliveryTime'],
  },
  {
    name: 'webhooks-refused',
    description:
      'The webhook secret is rotated on one side only: every webhook is refused (401) while a broadcast runs',
    setup: (seed) => {
      const generator = new TrafficGenerator(seed);
      return {
        events: broadcastDay(generator, 'aisensy'),
        faults: { refusedFrom: at(0, 10, 3) },
        start: at(0, 6),
        end: at(0, 12),
        onset: at(0, 10, 3),
      };
    },
    expect: [{ alarm: 'webhooksRefused', severity: 'critical', withinMinutes: 15 }],
    allowed: ['undelivered', 'deliveryRate'],
  },
  {
    name: 'provider-stops-calling',
    description: 'The provider stops calling 5 minutes into a broadcast, for an hour, then sends the backlog',
    setup: (seed) => {
      const generator = new TrafficGenerator(seed);
      const events = holdArrivals(broadcastDay(generator), at(0, 10, 5), at(0, 11, 5), seededRandom(seed + 1));
      return { events, start: at(0, 6), end: at(0, 14), onset: at(0, 10, 5) };
    },
    expect: [{ alarm: 'webhookSilence', severity: 'critical', withinMinutes: 30, recovers: true }],
  },
  {
    name: 'provider-stops-at-night',
    description: 'The provider stops calling for five hours at night, after the evening broadcast: nobody is paged',
    setup: (seed) => {
      const generator = new TrafficGenerator(seed);
      const events = holdArrivals(
        [
          ...generator.broadcast({ campaign: 'evening', start: at(0, 14), recipients: 5_000, provider: 'meta' }),
          ...generator.trickle({ perHour: 2, from: at(0, 12), to: at(1, 0) }),
        ],
        at(0, 18),
        at(0, 23),
        seededRandom(seed + 1),
      );
      return { events, start: at(0, 12), end: at(1, 0), onset: at(0, 18) };
    },
    expect: [],
    quick: true,
  },
  {
    name: 'database-down',
    description: 'The database refuses connections for 30 minutes during a broadcast',
    setup: (seed) => {
      const generator = new TrafficGenerator(seed);
      return {
        events: broadcastDay(generator),
        faults: { databaseDown: [{ from: at(0, 10, 5), to: at(0, 10, 35) }] },
        start: at(0, 6),
        end: at(0, 14),
        onset: at(0, 10, 5),
      };
    },
    expect: [{ alarm: 'databaseErrors', severity: 'critical', withinMinutes: 10, recovers: true }],
    // The statuses wait in the queue, backing off, and are all stored once the database is back: nothing is
    // dead-lettered, but the rates of their cohort really are low and late until then.
    allowed: ['queueAge', 'deliveryRate', 'undelivered', 'deliveryTime', 'readRate'],
  },
  {
    name: 'database-down-6h',
    description: 'The database refuses connections for 6 hours from 5 minutes into a broadcast; traffic continues',
    setup: (seed) => {
      const generator = new TrafficGenerator(seed);
      return {
        events: broadcastDay(generator),
        faults: { databaseDown: [{ from: at(0, 10, 5), to: at(0, 16, 5) }] },
        start: at(0, 6),
        end: at(0, 20),
        onset: at(0, 10, 5),
      };
    },
    expect: [{ alarm: 'databaseErrors', severity: 'critical', withinMinutes: 10, recovers: true }],
    // No deadLetters: a 6-hour outage costs delay only (databaseOutageToleranceHours). The statuses are late, so
    // the rates of their cohort and the queue's age really are off until they are stored.
    allowed: ['queueAge', 'deliveryRate', 'undelivered', 'deliveryTime', 'readRate'],
  },
  {
    name: 'database-slow',
    description: 'Every database call takes 2 s for an hour during a broadcast',
    setup: (seed) => {
      const generator = new TrafficGenerator(seed);
      return {
        events: broadcastDay(generator),
        faults: { databaseSlow: { from: at(0, 10, 5), to: at(0, 11, 5), ms: 2_000 } },
        start: at(0, 6),
        end: at(0, 14),
        onset: at(0, 10, 5),
      };
    },
    expect: [{ alarm: 'slowDatabase', severity: 'warning', withinMinutes: 15, recovers: true }],
    allowed: ['queueAge'],
  },
  {
    name: 'low-read-campaign',
    description: 'A 20,000 campaign that only 30 % of its recipients read',
    setup: (seed) => {
      const generator = new TrafficGenerator(seed);
      const events = [
        ...generator.trickle({ perHour: 20, from: at(0, 0), to: at(1, 0) }),
        ...generator.broadcast({
          campaign: 'cold_list',
          start: at(0, 4),
          recipients: 20_000,
          provider: 'aisensy',
          readShareOfReceiptsOn: 0.5,
        }),
      ];
      return { events, start: at(0, 0), end: at(1, 0), onset: at(0, 4) };
    },
    expect: [{ alarm: 'readRate', severity: 'warning' }],
  },
  {
    name: 'failure-spike-131049',
    description: "Meta's marketing limits refuse a fifth of a 20,000 broadcast with 131049",
    setup: (seed) => {
      const generator = new TrafficGenerator(seed);
      const events = [
        ...generator.trickle({ perHour: 20, from: at(0, 0), to: at(0, 18) }),
        ...generator.broadcast({
          campaign: 'promo',
          start: at(0, 10),
          recipients: 20_000,
          provider: 'meta',
          failureShare: 0.2,
          failureError: ERRORS.ecosystem,
        }),
      ];
      return { events, start: at(0, 6), end: at(0, 13), onset: at(0, 10) };
    },
    expect: [{ alarm: 'failureSpike', severity: 'warning', withinMinutes: 20, mentions: '131049' }],
    allowed: ['deliveryRate'],
  },
  {
    name: 'sweeper-stops',
    description: "The sweeper's schedule stops at noon",
    setup: (seed) => {
      const generator = new TrafficGenerator(seed);
      return {
        events: broadcastDay(generator),
        faults: { sweeperStoppedFrom: at(0, 12) },
        start: at(0, 6),
        end: at(0, 14),
        onset: at(0, 12),
      };
    },
    expect: [{ alarm: 'sweeperNotRunning', severity: 'critical', withinMinutes: 15 }],
  },
];

export interface ExpectationOutcome extends Expectation {
  /** Minutes from onset to the first ALARM notification, or null when none came. */
  minutes: number | null;
  recovered: boolean;
  met: boolean;
}

export interface ScenarioOutcome {
  name: string;
  description: string;
  fired: { alarm: string; severity: string; count: number }[];
  expectations: ExpectationOutcome[];
  falseNotifications: { alarm: string; severity: string; at: string }[];
  passed: boolean;
}

/** Judges a run's notifications against the scenario. */
export function judge(scenario: Scenario, setup: ScenarioSetup, notifications: Notification[]): ScenarioOutcome {
  const alarms = notifications.filter((n) => n.state === 'ALARM');
  const fired = new Map<string, { alarm: string; severity: string; count: number }>();
  for (const n of alarms) {
    const entry = fired.get(n.alarm) ?? { alarm: n.alarm, severity: n.severity, count: 0 };
    entry.count++;
    fired.set(n.alarm, entry);
  }
  const onset = setup.onset ?? setup.start;
  const expectations = scenario.expect.map((e): ExpectationOutcome => {
    const first = alarms.find(
      (n) => n.alarm === e.alarm && n.at >= onset && (!e.mentions || n.description.includes(e.mentions)),
    );
    const minutes = first ? Math.round((first.at - onset) / MINUTE) : null;
    const last = notifications.filter((n) => n.alarm === e.alarm).at(-1);
    const recovered = e.alarm === 'failureSpike' || last?.state === 'OK';
    const met =
      first !== undefined &&
      first.severity === e.severity &&
      (e.withinMinutes === undefined || minutes! <= e.withinMinutes) &&
      (!e.recovers || recovered);
    return { ...e, minutes, recovered, met };
  });
  const legitimate = new Set([...scenario.expect.map((e) => e.alarm), ...(scenario.allowed ?? [])]);
  const falseNotifications = alarms
    .filter((n) => !legitimate.has(n.alarm) || n.at < onset)
    .map((n) => ({ alarm: n.alarm, severity: n.severity, at: new Date(n.at).toISOString() }));
  return {
    name: scenario.name,
    description: scenario.description,
    fired: [...fired.values()],
    expectations,
    falseNotifications,
    passed: expectations.every((e) => e.met) && falseNotifications.length === 0,
  };
}
