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
import { pgliteScratch, postgresScratch, runScenarios, type ScenarioRun, type NewScratchDatabase } from './alert-simulation/run-scenarios';
import { SCENARIOS } from './alert-simulation/scenarios';
import { modelOf } from './alert-simulation/stack-model';
import { loadDeployedConfig } from './deployed-config';

function parseArgs(argv: string[]) {
  const names: string[] = [];
  let seed = 42;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--json') json = true;
    else if (arg === '--scenario') names.push(argv[++i] ?? '');
    else if (arg === '--seed') seed = Number(argv[++i]);
    else throw new Error(`unknown argument ${arg}; usage: npm run alerts:simulate -- [--json] [--scenario NAME ...] [--seed N]`);
  }
  const unknown = names.filter((n) => !SCENARIOS.some((s) => s.name === n));
  if (unknown.length) throw new Error(`unknown scenario ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  if (!Number.isInteger(seed)) throw new Error('--seed takes an integer');
  return { scenarios: names.length ? SCENARIOS.filter((s) => names.includes(s.name)) : SCENARIOS, seed, json };
}

/** The table the README shows. */
export function formatRuns(runs: ScenarioRun[]): string {
  const rows = runs.map((r) => [
    r.name,
    r.fired.length ? r.fired.map((f) => `${f.alarm} (${f.severity})`).join(', ') : 'none',
    r.expectations.length
      ? r.expectations.map((e) => `${e.alarm} ${e.minutes === null ? 'never' : `${e.minutes} min`}${e.withinMinutes === undefined ? '' : ` (target ${e.withinMinutes})`}${e.recovers ? (e.recovered ? ', OK again' : ', not OK again') : ''}`).join('; ')
      : 'nothing',
    String(r.falseNotifications.length),
    r.passed ? 'pass' : 'FAIL',
  ]);
  const header = ['scenario', 'notified', 'expected: minutes from onset', 'false', 'result'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
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
