import { SCENARIOS } from '../../tools/alert-simulation/scenarios';
import { simulate, summary } from '../support/alert-simulation';
import { hasRealPostgres } from '../support/databases';

/** A week of healthy WhatsApp traffic must page nobody: 0 critical and 0 warning notifications. */
(hasRealPostgres() ? describe : describe.skip)(
  'alert scenario: a normal week (real PostgreSQL; PGlite would take an hour)',
  () => {
    it('sends no notification at all over seven days of broadcasts', async () => {
      const [run] = await simulate(SCENARIOS.filter((s) => s.name === 'normal-week'));
      expect(summary(run!)).toEqual({ scenario: 'normal-week', fired: [], expected: [], falseNotifications: [] });
      // It was a real week: hundreds of thousands of webhooks, all stored.
      expect(run!.requests).toBeGreaterThan(300_000);
      expect(run!.statusesStored).toBeGreaterThan(0.99 * run!.requests);
    }, 1_800_000);
  },
);
