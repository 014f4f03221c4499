/**
 * For shell scripts (.ci/run, the bench): `start` prints `export TEST_DATABASE_URL=...` lines to eval;
 * `stop DIR` stops and deletes the cluster.
 */
import { startThrowawayPostgres, stopThrowawayPostgres } from '../db/throwaway-postgres';

async function main(): Promise<void> {
  const [command, dir] = process.argv.slice(2);
  if (command === 'start') {
    const pg = await startThrowawayPostgres();
    process.stdout.write(`export TEST_DATABASE_URL='${pg.url}'\nexport THROWAWAY_PG_DIR='${pg.dataDir}'\n`);
  } else if (command === 'stop' && dir) {
    await stopThrowawayPostgres(dir);
  } else {
    process.stderr.write('usage: throwaway-postgres start | stop DIR\n');
    process.exitCode = 2;
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exitCode = 1;
});
