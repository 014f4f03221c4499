/**
 * `npm run alerts:simulate [-- --json] [--scenario NAME ...] [--seed N]`: replays realistic days and incidents
 * through the real handlers and SQL, evaluates the alarms exactly as the synthesized stack defines them, and prints
 * which fired, how many minutes after the incident began, and any false notification. Exit code 1 when a scenario
 * misses its target. The alarm settings are the deployed ones (cdk.json and the environment).
 *
 * Database: a scratch database per scenario on the PostgreSQL server at SIMULATION_DATABASE_URL (a role that may
 * create databases), else a throwaway local PostgreSQL server when its binaries are installed, else PGlite.
 */
import { findPostgresBin, startThrowawayPostgres } from '../db/throwaway-postgres';
import { parseCli, UsageError } from '../lambdas/shared/cli';
import {
  type NewScratchDatabase,
  pgliteScratch,
  postgresScratch,
  runScenarios,
  type ScenarioRun,
} from './alert-simulation/run-scenarios';
import { SCENARIOS } from './alert-simulation/scenarios';
import { modelOf } from './alert-simulation/stack-model';
import { loadDeployedConfig } from './deployed-config';

/** The command line: `--scenario` may be given several times (default: every scenario). */
function parseSimulateArgs(argv: readonly string[] = process.argv.slice(2)) {
  return parseCli(
    {
      name: 'alerts:simulate',
      usage: 'npm run alerts:simulate -- [--json] [--scenario NAME ...] [--seed N]',
      options: {
        json: { type: 'boolean', default: false },
        scenario: { type: 'string', multiple: true, default: [] },
        seed: { type: 'string', default: '42' },
      },
    },
    argv,
    ({ values }) => {
      const names = values.scenario;
      const unknown = names.filter((n) => !SCENARIOS.some((s) => s.name === n));
      if (unknown.length)
        throw new UsageError(
          `unknown scenario ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`,
        );
      const seed = Number(values.seed);
      if (!Number.isInteger(seed)) throw new UsageError('--seed takes an integer');
      return {
        scenarios: names.length ? SCENARIOS.filter((s) => names.includes(s.name)) : SCENARIOS,
        seed,
        json: values.json,
      };
    },
  );
}

/** The table the README shows. */
export function formatRuns(runs: ScenarioRun[]): string {
  const rows = runs.map((r) => [
    r.name,
    r.fired.length ? r.fired.map((f) => `${f.alarm} (${f.severity})`).join(', ') : 'none',
    r.expectations.length
      ? r.expectations
          .map(
            (e) =>
              `${e.alarm} ${e.minutes === null ? 'never' : `${e.minutes} min`}${e.withinMinutes === undefined ? '' : ` (target ${e.withinMinutes})`}${e.recovers ? (e.recovered ? ', OK again' : ', not OK again') : ''}`,
          )
          .join('; ')
      : 'nothing',
    String(r.falseNotifications.length),
    r.passed ? 'pass' : 'FAIL',
  ]);
  const header = ['scenario', 'notified', 'expected: minutes from onset', 'false', 'result'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

async function main(): Promise<number> {
  const args = parseSimulateArgs();
  // The stack as `cdk synth` would build it with the deployed settings.
  const model = modelOf(loadDeployedConfig());

  let scratch: NewScratchDatabase = pgliteScratch;
  let stop: () => Promise<void> = async () => {};
  if (process.env.SIMULATION_DATABASE_URL) scratch = postgresScratch(process.env.SIMULATION_DATABASE_URL);
  else if (findPostgresBin()) {
    const server = await startThrowawayPostgres();
    scratch = postgresScratch(server.url);
    stop = () => server.stop();
  }
  try {
    const runs = await runScenarios({
      scratch,
      model,
      scenarios: args.scenarios,
      seed: args.seed,
      onProgress: args.json || !process.stderr.isTTY ? undefined : (message) => process.stderr.write(`\r${message}   `),
    });
    if (args.json) process.stdout.write(`${JSON.stringify({ seed: args.seed, scenarios: runs }, null, 2)}\n`);
    else process.stdout.write(`${process.stderr.isTTY ? '\n' : ''}${formatRuns(runs)}\n`);
    return runs.every((r) => r.passed) ? 0 : 1;
  } finally {
    await stop();
  }
}

if (require.main === module) {
  main().then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      process.stderr.write(`alerts:simulate failed: ${(error as Error).message}\n`);
      process.exitCode = 2;
    },
  );
}
