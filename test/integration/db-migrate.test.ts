import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { readMigrations, sameSessionGuard } from '../../db/migrations';
import { createPostgresExecutor } from '../../lambdas/store/postgres-executor';
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

  it("a dry run's script that lands on another connection stops before its first statement", async () => {
    // The session of the dry run's transaction, and the one a pool would open after losing it.
    const [holder, replacement] = [1, 2].map(() => createPostgresExecutor(db.url ?? '', { max: 1 }));
    try {
      await holder!.exec('begin');
      const { rows } = await holder!.query<{ pid: number }>('select pg_backend_pid() as pid');
      const guard = sameSessionGuard(rows[0]!.pid);
      await expect(replacement!.exec(`${guard}\ncreate table dry_run_leak (id int);`)).rejects.toThrow(
        'the dry run lost its database connection: stopped before changing anything',
      );
      const leaked = await replacement!.query(`select to_regclass('public.dry_run_leak') as t`);
      expect(leaked.rows).toEqual([{ t: null }]);
      // In its own session the guard lets the script run.
      await holder!.exec(`${guard}\ncreate table dry_run_kept (id int);`);
      expect((await holder!.query(`select to_regclass('public.dry_run_kept')::text as t`)).rows).toEqual([
        { t: 'dry_run_kept' },
      ]);
    } finally {
      await holder!.exec('rollback').catch(() => undefined);
      await Promise.all([holder!.close(), replacement!.close()]);
    }
  });

  it('leaves the files applicable by plain psql again (re-runnable DDL)', async () => {
    for (const migration of await readMigrations()) {
      const file = path.join(ROOT, 'supabase', 'migrations', `${migration.version}.sql`);
      await expect(run('psql', [db.url ?? '', '-v', 'ON_ERROR_STOP=1', '-q', '-f', file])).resolves.toBeDefined();
    }
  });
});
