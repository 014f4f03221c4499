import { SCENARIOS } from '../../tools/alert-simulation/scenarios';
import { simulate, summary } from '../support/alert-simulation';

/**
 * Every incident of docs/alarms.md replayed through the real handlers and SQL against the synthesized alarms: each
 * must notify within its target and send no false notification. (The normal week has its own file: it is the
 * longest, and jest runs files side by side.)
 */
describe('alert scenarios: incidents and quiet times', () => {
  const scenarios = SCENARIOS.filter((s) => s.name !== 'normal-week');
  let runs: Awaited<ReturnType<typeof simulate>>;
  // About 9 minutes alone on 2 cores, 13 beside the rest of CI's tests: the limit is a guard against a hang, not a
  // measure of speed (the normal week has 30 minutes likewise).
  beforeAll(async () => {
    runs = await simulate(scenarios);
  }, 1_800_000);

  it.each(scenarios.map((s) => [s.name, s.description]))('%s (%s): notified within target, nothing false', (name) => {
    const run = runs.find((r) => r.name === name)!;
    expect(summary(run)).toEqual({
      ...summary(run),
      expected: run.expectations.map((e) => ({
        alarm: e.alarm,
        minutes: expect.any(Number),
        within: e.withinMinutes ?? null,
        recovered: e.recovers ? true : e.recovered,
        met: true,
      })),
      falseNotifications: [],
    });
    expect(run.passed).toBe(true);
  });

  it('quiet times page nobody: a quiet day with one undelivered message, a provider that stops at night', () => {
    for (const name of ['quiet-day', 'provider-stops-at-night'])
      expect(runs.find((r) => r.name === name)!.fired).toEqual([]);
  });

  it('a database outage of 30 minutes or 6 hours dead-letters nothing and stores the statuses afterwards', () => {
    for (const name of ['database-down', 'database-down-6h']) {
      const run = runs.find((r) => r.name === name)!;
      expect({
        name,
        deadLettered: run.deadLettered,
        deadLettersAlarm: run.fired.some((f) => f.alarm === 'deadLetters'),
      }).toEqual({ name, deadLettered: 0, deadLettersAlarm: false });
      expect(run.statusesStored).toBeGreaterThan(0);
    }
  });

  it('the refused-webhooks scenario really refused: every webhook after the onset got 4xx', () => {
    const run = runs.find((r) => r.name === 'webhooks-refused')!;
    expect(run.refused).toBeGreaterThan(run.requests / 2);
  });

  it('the failure-spike notification names the error code and says what to do', () => {
    const run = runs.find((r) => r.name === 'failure-spike-131049')!;
    expect(run.expectations[0]).toMatchObject({ mentions: '131049', met: true });
  });
});
