import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { SqlExecutor } from '../lambdas/store/sql-executor';
import { checkAdoption, hasGuideTable } from './adoption-preflight';

export const MIGRATIONS_DIR = path.resolve(__dirname, '..', 'supabase', 'migrations');

/** Where the runner records what it applied (Supabase's CLI keeps its own record in supabase_migrations). */
const HISTORY_TABLE = 'public.delivery_tracker_migrations';

/**
 * The history table sits in schema public, which Supabase serves over its API and grants to its API roles by
 * default: only the migrating role may touch it (RLS on, no policy; grants taken back). Run every time, so a
 * database migrated before this was added is closed too.
 */
const LOCK_DOWN_HISTORY = `
  alter table ${HISTORY_TABLE} enable row level security;
  revoke all on table ${HISTORY_TABLE} from public;
  do $$
  begin
    if exists (select 1 from pg_roles where rolname = 'anon') then
      execute 'revoke all on table ${HISTORY_TABLE} from anon';
    end if;
    if exists (select 1 from pg_roles where rolname = 'authenticated') then
      execute 'revoke all on table ${HISTORY_TABLE} from authenticated';
    end if;
  end;
  $$;`;

export interface Migration {
  /** The file name without `.sql`, e.g. `0001_create_broadcasts_messages`. */
  version: string;
  sql: string;
}

export async function readMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => /^\d+_[\w-]+\.sql$/.test(f)).sort();
  return Promise.all(
    files.map(async (file) => ({
      version: file.replace(/\.sql$/, ''),
      sql: await readFile(path.join(dir, file), 'utf8'),
    })),
  );
}

/**
 * Applies, in file-name order, each migration not yet recorded, each in its own transaction together with its
 * record. Re-running applies nothing. Returns the versions applied by this call.
 *
 * Adopting the original guide's table is the exception: its pending migrations run in one transaction, as the dry
 * run does. 0000 sets the guide's table aside and 0010 drops it after moving its rows; applied apart, anything of the
 * user's that 0010 cannot take along (a function returning the table's rows, a policy reading it, ...) failed 0010
 * after 0000 had committed, and left the guide's handler writing into an empty tracker table. checkAdoption names
 * the usual causes first, with what to do; the transaction covers the rest.
 */
export async function applyMigrations(executor: SqlExecutor, dir = MIGRATIONS_DIR): Promise<string[]> {
  await executor.exec(
    `create table if not exists ${HISTORY_TABLE} (version text primary key, applied_at timestamptz not null default now())`,
  );
  await executor.exec(LOCK_DOWN_HISTORY);
  const { rows } = await executor.query<{ version: string }>(`select version from ${HISTORY_TABLE}`);
  const done = new Set(rows.map((r) => r.version));
  const pending = (await readMigrations(dir)).filter((m) => !done.has(m.version));
  const withRecord = (m: Migration) =>
    `${m.sql}\n;insert into ${HISTORY_TABLE} (version) values ('${m.version.replace(/'/g, "''")}') on conflict do nothing;`;
  if (pending.length && (await hasGuideTable(executor))) {
    await checkAdoption(executor);
    try {
      await executor.exec(`begin;\n${pending.map(withRecord).join('\n')}\ncommit;`);
    } catch (error) {
      await executor.exec('rollback').catch(() => undefined);
      throw error;
    }
  } else {
    for (const migration of pending) await executor.exec(`begin;\n${withRecord(migration)}\ncommit;`);
  }
  return pending.map((m) => m.version);
}

/**
 * A notice a migration raised to report (`adoption: ...`), not PostgreSQL's own `... does not exist, skipping` of a
 * re-runnable `drop ... if exists`.
 */
export const isReport = (notice: string): boolean => notice !== '' && !notice.endsWith(', skipping');

export interface DryRun {
  pending: string[];
  /** What the migrations said (RAISE NOTICE), e.g. what adopting the original guide's table would import. */
  notices: string[];
}

/**
 * Runs every pending migration inside one transaction on a single connection and rolls it back: what `db:migrate`
 * would apply and what the migrations would report, with nothing changed. PostgreSQL only (DATABASE_URL).
 */
export async function dryRunMigrations(connectionString: string, dir = MIGRATIONS_DIR): Promise<DryRun> {
  // Loaded here: the embedded database's users of this module need no pg.
  const { createPostgresSession } = await import('../lambdas/store/postgres-executor');
  const notices: string[] = [];
  // One connection, never replaced: a pool that lost the connection holding the transaction (a restart, a
  // failover) would run the remaining migrations on a new one, in autocommit, and the dry run would commit them.
  const executor = createPostgresSession(connectionString, 'DATABASE_URL', (notice) => notices.push(notice));
  try {
    await executor.exec('begin');
    const history = await executor.query<{ name: string | null }>(
      `select to_regclass('${HISTORY_TABLE}')::text as name`,
    );
    const done = new Set(
      history.rows[0]?.name
        ? (await executor.query<{ version: string }>(`select version from ${HISTORY_TABLE}`)).rows.map((r) => r.version)
        : [],
    );
    const pending = (await readMigrations(dir)).filter((m) => !done.has(m.version));
    await checkAdoption(executor);
    for (const migration of pending) await executor.exec(migration.sql);
    return { pending: pending.map((m) => m.version), notices: notices.filter(isReport) };
  } finally {
    await executor.exec('rollback').catch(() => undefined);
    await executor.close();
  }
}
