/**
 * For shell scripts (.ci/run, the bench): `start` prints `export TEST_DATABASE_URL=...` lines to eval;
 * `stop DIR` stops and deletes the cluster.
 */
import { startThrowawayPostgres, stopThrowawayPostgres } from '../db/throwaway-postgres';
import { parseCli, UsageError } from '../lambdas/shared/cli';

const command = parseCli(
  { name: 'ci-postgres', usage: 'tsx scripts/ci-postgres.ts start | stop DIR', options: {}, allowPositionals: true },
  process.argv.slice(2),
  ({ positionals: [verb, dir, ...rest] }) => {
    if (verb === undefined) throw new UsageError('start or stop DIR is required');
    if (verb !== 'start' && verb !== 'stop') throw new UsageError(`unknown command ${verb}`);
    if (verb === 'stop' && dir === undefined)
      throw new UsageError('stop needs the DIR that start printed (THROWAWAY_PG_DIR)');
    const extra = verb === 'start' ? dir : rest[0];
    if (extra !== undefined) throw new UsageError(`unexpected argument ${extra}`);
    return verb === 'start' ? ({ verb } as const) : ({ verb, dir: dir! } as const);
  },
);

async function main(): Promise<void> {
  if (command.verb === 'start') {
    const pg = await startThrowawayPostgres();
    process.stdout.write(`export TEST_DATABASE_URL='${pg.url}'\nexport THROWAWAY_PG_DIR='${pg.dataDir}'\n`);
  } else {
    await stopThrowawayPostgres(command.dir);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exitCode = 1;
});
