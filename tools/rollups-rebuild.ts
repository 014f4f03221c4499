/**
 * `npm run rollups:rebuild -- [--from 2026-03-01T00:00:00Z] [--to 2026-03-08T00:00:00Z]`: recomputes the rollups
 * (supabase/migrations/0022) of a period, or of everything, from the message rows, in the database at DATABASE_URL,
 * else the embedded one in DATA_DIR (stop `npm start` first). Writers wait while it runs. The days retention deleted
 * from are left as they are (their rollups are the only record; rollups_kept_before(), migration 0032), and it says
 * so. Rows deleted by hand are gone: rebuilding their period forgets them, so rebuild only periods whose rows are all
 * still there (after a bulk load, a restore, or a change of the rollups' definition). Exit code 2 on a usage error.
 */
import { parseCli, periodOptions } from '../lambdas/shared/cli';
import { openToolDatabase } from './tool-database';

const args = parseCli(
  {
    name: 'rollups:rebuild',
    usage: 'npm run rollups:rebuild -- [--from DATE|TIME] [--to DATE|TIME]',
    options: { from: { type: 'string' }, to: { type: 'string' } },
  },
  process.argv.slice(2),
  ({ values }) => {
    const { from, to } = periodOptions(values);
    return { from: from ?? null, to: to ?? null };
  },
);

async function main(): Promise<number> {
  const { executor, where } = await openToolDatabase();
  try {
    const started = performance.now();
    const { rows } = await executor.query<{ written: string | number }>(
      'select public.rebuild_rollups($1, $2) as written',
      [args.from?.toISOString() ?? null, args.to?.toISOString() ?? null],
    );
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const period =
      args.from || args.to
        ? `rollups of ${args.from?.toISOString() ?? 'the first message'} to ${args.to?.toISOString() ?? 'the last'}`
        : 'all rollups';
    process.stdout.write(
      `${period} rebuilt from the message rows in ${where}: ${Number(rows[0]?.written ?? 0)} rollup row(s) in ${seconds} s\n`,
    );
    const { rows: kept } = await executor.query<{ kept: Date | string | null }>(
      'select public.rollups_kept_before() as kept',
    );
    const keptBefore = kept[0]?.kept ? new Date(kept[0].kept) : null;
    if (keptBefore && (!args.from || args.from < keptBefore))
      process.stdout.write(
        `rollups before ${keptBefore.toISOString()} were left as they are: retention deleted their messages, so they are the only record (docs/retention.md)\n`,
      );
    return 0;
  } finally {
    await executor.close();
  }
}

main().then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    process.stderr.write(`rollups:rebuild failed: ${(error as Error).message}\n`);
    process.exitCode = 1;
  },
);
