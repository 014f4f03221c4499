import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { applyMigrations } from '../../local/migrations';
import { createPgliteExecutor } from '../../lambdas/store/pglite-executor';
import { createPostgresExecutor } from '../../lambdas/store/postgres-executor';
import type { SqlExecutor } from '../../lambdas/store/sql-executor';
import { prepareSupabaseRoles } from './supabase-roles';

export type Engine = 'postgres' | 'pglite';

/** The engines this run has: PGlite always, real PostgreSQL when globalSetup found or started one. */
export function availableEngines(): Engine[] {
  return process.env.TEST_DATABASE_URL ? ['postgres', 'pglite'] : ['pglite'];
}

export const hasRealPostgres = (): boolean => Boolean(process.env.TEST_DATABASE_URL);

export interface TestDatabase {
  engine: Engine;
  executor: SqlExecutor;
  /** Connection string (real PostgreSQL only), for tests that open their own connections. */
  url?: string;
  drop(): Promise<void>;
}

/**
 * A fresh, migrated database of its own per suite, so suites can run in parallel. Supabase's API roles and default
 * privileges are in place before the migrations run, so every suite runs on the grants a Supabase project has.
 */
export async function createTestDatabase(
  engine: Engine,
  options: { beforeMigrations?: (executor: SqlExecutor) => Promise<void> } = {},
): Promise<TestDatabase> {
  if (engine === 'pglite') {
    const executor = await createPgliteExecutor();
    await prepareSupabaseRoles(executor);
    await options.beforeMigrations?.(executor);
    await applyMigrations(executor);
    return { engine, executor, drop: () => executor.close() };
  }
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) throw new Error('no real PostgreSQL in this run');
  const name = `test_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const executor = createPostgresExecutor(url.toString(), { max: 8 });
  await prepareSupabaseRoles(executor);
  await options.beforeMigrations?.(executor);
  await applyMigrations(executor);
  return {
    engine,
    executor,
    url: url.toString(),
    async drop() {
      await executor.close();
      const client = new Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}
