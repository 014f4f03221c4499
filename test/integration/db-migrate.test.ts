import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { readMigrations } from '../../db/migrations';
import { createPostgresExecutor, createPostgresSession } from '../../lambdas/store/postgres-executor';
import { createTestDatabase, hasRealPostgres, type TestDatabase } from '../support/databases';
import { npmRun, ROOT, timeoutForRuns } from '../support/npm-run';

const run = promisify(execFile);
const describeOnRealPostgres = hasRealPostgres() ? describe : describe.skip;

describeOnRealPostgres('npm run db:migrate', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    // Start from an empty database: drop what createTestDatabase applied.
    await db.executor.exec('drop schema public cascade; create schema public;');
  });
  afterAll(() => db.drop());

  const migrate = async () => {
    const result = await npmRun('db:migrate', [], { DATABASE_URL: db.url ?? '' });
    expect(result.code).toBe(0);
    return result;
  };
  const schema = async () =>
    (
      await db.executor.query<{ d: string }>(
        `select string_agg(table_name || '.' || column_name || ':' || data_type, ',' order by table_name, column_name) as d
         from information_schema.columns where table_schema = 'public'`,
      )
    ).rows[0]?.d;

  it(
    'applies every migration once, then changes nothing when run again',
    async () => {
      const first = await migrate();
      expect(first.stdout).toMatch(/applied 0001_create_broadcasts_messages/);
      expect(first.stdout).toMatch(/applied 0002_create_apply_status_updates/);
      const after = await schema();
      expect(after).toContain('broadcasts_messages.status:jsonb');

      const second = await migrate();
      expect(second.stdout).toMatch(/up to date/);
      expect(await schema()).toBe(after);
      const { rows } = await db.executor.query<{ n: number }>(
        'select count(*)::int as n from delivery_tracker_migrations',
      );
      expect(rows[0]?.n).toBe((await readMigrations()).length);
    },
    timeoutForRuns(2),
  );

  it(
    "prints PostgreSQL's DETAIL and HINT of a migration that fails, not its message alone",
    async () => {
      const other = await createTestDatabase('postgres');
      try {
        await other.executor.exec(`drop schema public cascade; create schema public;
        create function public.wa_iso8601(ts timestamptz) returns integer language sql as 'select 1';`);
        const failed = await npmRun('db:migrate', [], { DATABASE_URL: other.url ?? '' });
        expect(failed.code).toBe(1);
        expect(failed.stderr).toMatch(
          /^db:migrate failed: cannot change return type of existing function\n {2}HINT: Use DROP FUNCTION wa_iso8601\(timestamp with time zone\) first\.\n$/,
        );
      } finally {
        await other.drop();
      }
    },
    timeoutForRuns(1),
  );

  it("a dry run's session that loses its connection fails its next statement instead of running it in autocommit", async () => {
    // What dryRunMigrations runs on (createPostgresSession), against a pool of one, which opens a new connection.
    const admin = createPostgresExecutor(db.url ?? '', { max: 1 });
    const lose = async (executor: ReturnType<typeof createPostgresExecutor>, table: string) => {
      await executor.exec('begin');
      const { rows } = await executor.query<{ pid: number }>('select pg_backend_pid() as pid');
      await admin.query('select pg_terminate_backend($1)', [rows[0]!.pid]);
      // The backend gone, then a moment for its FATAL to reach the idle connection: a fixed sleep alone could be
      // too short on a loaded CI machine.
      for (let tries = 0; tries < 100; tries++) {
        const alive = await admin.query('select 1 from pg_stat_activity where pid = $1', [rows[0]!.pid]);
        if (alive.rows.length === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
      return executor.exec(`create table ${table} (id int)`);
    };
    const exists = async (table: string) =>
      (await admin.query<{ t: string | null }>(`select to_regclass('public.${table}')::text as t`)).rows[0]!.t;
    const session = createPostgresSession(db.url ?? '', 'DATABASE_URL');
    const pool = createPostgresExecutor(db.url ?? '', { max: 1, unreachableSetting: 'DATABASE_URL' });
    try {
      await expect(lose(session, 'dry_run_session_leak')).rejects.toThrow(
        /not queryable|terminating connection due to administrator command|Connection terminated/,
      );
      expect(await exists('dry_run_session_leak')).toBeNull();
      // Why the dry run does not use the pool: there the statement runs, committed, on a new connection.
      await lose(pool, 'dry_run_pool_leak');
      expect(await exists('dry_run_pool_leak')).toBe('dry_run_pool_leak');
    } finally {
      await admin.exec('drop table if exists dry_run_pool_leak');
      await Promise.all([session.close(), pool.close(), admin.close()]);
    }
  });

  it('leaves the files applicable by plain psql again (re-runnable DDL)', async () => {
    for (const migration of await readMigrations()) {
      const file = path.join(ROOT, 'supabase', 'migrations', `${migration.version}.sql`);
      await expect(run('psql', [db.url ?? '', '-v', 'ON_ERROR_STOP=1', '-q', '-f', file])).resolves.toBeDefined();
    }
  });
});
