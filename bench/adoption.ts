/**
 * `npx tsx bench/adoption.ts [rows]`: times adopting the original guide's table (db:migrate on a database holding
 * it) on a throwaway PostgreSQL server: the dry run, then the migration, with the rows generated in SQL.
 */
import { Client } from 'pg';
import { ADOPTED_NUMBERS_LEFT_SQL, PLUS_ADOPTED_NUMBERS_SQL } from '../db/adopted-numbers';
import { applyMigrations, dryRunMigrations } from '../db/migrations';
import { startThrowawayPostgres } from '../db/throwaway-postgres';
import { parseCli, UsageError } from '../lambdas/shared/cli';
import { createPostgresExecutor } from '../lambdas/store/postgres-executor';
import { ORIGINAL_GUIDE_DDL } from '../testkit/original-guide-table';

const rows = parseCli(
  {
    name: 'bench/adoption',
    usage: 'npx tsx bench/adoption.ts [rows]   (default 1000000)',
    options: {},
    allowPositionals: true,
  },
  process.argv.slice(2),
  ({ positionals }) => {
    if (positionals.length > 1) throw new UsageError(`unexpected argument ${positionals[1]}`);
    const n = Number(positionals[0] ?? 1_000_000);
    if (!Number.isInteger(n) || n < 1) throw new UsageError('rows must be a whole number above 0');
    return n;
  },
);

async function main(): Promise<void> {
  const pg = await startThrowawayPostgres({ fast: false });
  try {
    const client = new Client({ connectionString: pg.url });
    await client.connect();
    await client.query(ORIGINAL_GUIDE_DDL);
    await client.query('alter table broadcasts_messages add column customer_ref text');
    let t = performance.now();
    // Sent at a second's spacing over the last days; 95 % delivered 3 s later, 55 % read a minute after that. The
    // number as the guide's handler stored Meta's recipient_id: digits, no +.
    await client.query(
      `insert into broadcasts_messages (message_id, phone_number, status, created_at, updated_at, customer_ref)
       select 'wamid.g' || i, '91' || (9000000000 + i), jsonb_strip_nulls(jsonb_build_object(
                'sent', to_char(t at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                'delivered', case when i % 20 <> 0 then to_char((t + interval '3 s') at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') end,
                'read', case when i % 20 < 11 and i % 20 <> 0 then to_char((t + interval '63 s') at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') end)),
              t + interval '1 s', t + interval '64 s', 'ref' || i
         from generate_series(1, $1::int) i, lateral (select now() - make_interval(secs => i) as t) x`,
      [rows],
    );
    await client.query('analyze broadcasts_messages');
    const generated = (performance.now() - t) / 1000;
    await client.end();

    t = performance.now();
    const plan = await dryRunMigrations(pg.url);
    const dryRun = (performance.now() - t) / 1000;
    const executor = createPostgresExecutor(pg.url, { max: 1 });
    t = performance.now();
    await applyMigrations(executor);
    const migrate = (performance.now() - t) / 1000;
    const { rows: check } = await executor.query<{ n: number }>(
      'select count(*)::int as n from broadcasts_messages where customer_ref is not null',
    );
    // Only the updates are timed: the count after each is the bench's way to know when to stop (a user sees UPDATE 0).
    let plus = 0;
    let runs = 0;
    do {
      t = performance.now();
      await executor.exec(PLUS_ADOPTED_NUMBERS_SQL);
      plus += (performance.now() - t) / 1000;
      runs += 1;
    } while ((await executor.query<{ n: number }>(ADOPTED_NUMBERS_LEFT_SQL)).rows[0]!.n > 0);
    const { rows: bare } = await executor.query<{ n: number }>(
      `select count(*)::int as n from broadcasts_messages where phone_number !~ '^[+]'`,
    );
    await executor.close();
    process.stdout.write(
      `${rows.toLocaleString('en-US')} guide rows (generated in ${generated.toFixed(1)} s): dry run ${dryRun.toFixed(1)} s, db:migrate ${migrate.toFixed(1)} s; ` +
        `${check[0]!.n.toLocaleString('en-US')} rows after, with the user column; the numbers given their + in ${plus.toFixed(1)} s (${runs} runs of the update) ` +
        `(${bare[0]!.n} left without)\n${plan.notices.map((n) => `  ${n}`).join('\n')}\n`,
    );
  } finally {
    await pg.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exitCode = 1;
});
