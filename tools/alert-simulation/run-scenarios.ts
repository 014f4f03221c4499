import { createScratchDatabase, createScratchPglite, type ScratchDatabase } from '../../db/scratch-database';
import { judge, SCENARIOS, type Scenario, type ScenarioOutcome } from './scenarios';
import { simulatePipeline } from './simulated-pipeline';
import { type StackModel, synthesizeStackModel } from './stack-model';

/** A fresh, migrated database for one scenario, and how to get rid of it. */
export type NewScratchDatabase = () => Promise<ScratchDatabase>;

/** Scratch databases on a PostgreSQL server (one `create database` each), from a URL of a role that may create them. */
export const postgresScratch =
  (adminUrl: string): NewScratchDatabase =>
  () =>
    createScratchDatabase(adminUrl, { poolSize: 2 });

/** Scratch databases in memory (PGlite): no server needed, several times slower on the long scenarios. */
export const pgliteScratch: NewScratchDatabase = () => createScratchPglite();

export interface ScenarioRun extends ScenarioOutcome {
  requests: number;
  refused: number;
  statusesStored: number;
  deadLettered: number;
  seconds: number;
  timings: { ingest: number; processor: number; sweeper: number; alarms: number };
}

/**
 * Runs scenarios against the alarms of the stack synthesized from `context` (the deployed settings by default),
 * each on a database of its own.
 */
export async function runScenarios(options: {
  scratch: NewScratchDatabase;
  scenarios?: Scenario[];
  seed?: number;
  model?: StackModel;
  onProgress?: (message: string) => void;
}): Promise<ScenarioRun[]> {
  const model = options.model ?? synthesizeStackModel();
  const runs: ScenarioRun[] = [];
  for (const scenario of options.scenarios ?? SCENARIOS) {
    const started = performance.now();
    const setup = scenario.setup(options.seed ?? 42);
    const database = await options.scratch();
    try {
      const result = await simulatePipeline({
        model,
        executor: database.executor,
        events: setup.events,
        start: setup.start,
        end: setup.end,
        faults: setup.faults,
        onHour: (at) => options.onProgress?.(`${scenario.name}: ${new Date(at).toISOString().slice(0, 16)}`),
      });
      const outcome = judge(scenario, setup, result.notifications);
      runs.push({
        ...outcome,
        requests: result.requests,
        refused: result.refused,
        statusesStored: result.statusesStored,
        deadLettered: result.deadLettered,
        timings: result.timings,
        seconds: Math.round((performance.now() - started) / 100) / 10,
      });
    } finally {
      await database.drop();
    }
  }
  return runs;
}
