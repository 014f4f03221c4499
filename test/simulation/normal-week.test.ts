import { SCENARIOS, type Scenario } from '../../tools/alert-simulation/scenarios';
import { simulate, summary } from '../support/alert-simulation';
import { hasRealPostgres } from '../support/databases';

/**
 * Healthy WhatsApp traffic must page nobody: 0 critical and 0 warning notifications. CI runs the normal week's first
 * four business days (the same traffic, the same seed: about 445,000 webhooks), to stay within its time budget
 * beside the rest of the suite; `npm run alerts:simulate -- --scenario normal-week` runs all seven.
 */
const DAYS_IN_CI = 4;
const DAY_MS = 86_400_000;
function firstDays(week: Scenario, days: number): Scenario {
  return {
    ...week,
    setup: (seed) => {
      const full = week.setup(seed);
      const end = full.start + days * DAY_MS;
      return { ...full, events: full.events.filter((e) => e.arrival < end), end };
    },
  };
}
(hasRealPostgres() ? describe : describe.skip)(
  'alert scenario: a normal week (real PostgreSQL; PGlite would take an hour)',
  () => {
    it(`sends no notification at all over ${DAYS_IN_CI} days of broadcasts`, async () => {
      const week = SCENARIOS.find((s) => s.name === 'normal-week')!;
      const [run] = await simulate([firstDays(week, DAYS_IN_CI)]);
      expect(summary(run!)).toEqual({ scenario: 'normal-week', fired: [], expected: [], falseNotifications: [] });
      // Real traffic: hundreds of thousands of webhooks, all stored.
      expect(run!.requests).toBeGreaterThan(300_000);
      expect(run!.statusesStored).toBeGreaterThan(0.99 * run!.requests);
    }, 1_800_000);
  },
);
