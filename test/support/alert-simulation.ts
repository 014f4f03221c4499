import {
  pgliteScratch,
  postgresScratch,
  runScenarios,
  type ScenarioRun,
} from '../../tools/alert-simulation/run-scenarios';
import type { Scenario } from '../../tools/alert-simulation/scenarios';
import { synthesizeStackModel } from '../../tools/alert-simulation/stack-model';

/** Runs scenarios against the default stack's alarms, on the suite's real PostgreSQL when it has one. */
export function simulate(scenarios: Scenario[]): Promise<ScenarioRun[]> {
  const url = process.env.TEST_DATABASE_URL;
  return runScenarios({
    scratch: url ? postgresScratch(url) : pgliteScratch,
    scenarios,
    model: synthesizeStackModel(),
  });
}

/** A scenario's outcome as one readable object, so a failure says what happened. */
export const summary = (run: ScenarioRun) => ({
  scenario: run.name,
  fired: run.fired.map((f) => `${f.alarm}:${f.severity}`),
  expected: run.expectations.map((e) => ({
    alarm: e.alarm,
    minutes: e.minutes,
    within: e.withinMinutes ?? null,
    recovered: e.recovered,
    met: e.met,
  })),
  falseNotifications: run.falseNotifications,
});
