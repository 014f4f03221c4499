import { readFile } from 'node:fs/promises';
import { createScratchDatabase, createScratchPglite } from '../../db/scratch-database';
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
  const beforeMigrations = async (executor: SqlExecutor) => {
    await prepareSupabaseRoles(executor);
    await options.beforeMigrations?.(executor);
  };
  if (engine === 'pglite') {
    // Suites without a database of their own kind start from the migrated templates globalSetup made (seconds less each).
    const template = options.beforeMigrations ? undefined : await pgliteTemplate();
    return { engine, ...(await createScratchPglite({ beforeMigrations, template })) };
  }
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) throw new Error('no real PostgreSQL in this run');
  const template = options.beforeMigrations ? undefined : process.env.PG_TEMPLATE_DATABASE;
  return { engine, ...(await createScratchDatabase(adminUrl, { beforeMigrations, template })) };
}

/** The migrated PGlite database globalSetup dumped (PGLITE_TEMPLATE), if it made one. */
export async function pgliteTemplate(): Promise<Blob | undefined> {
  const file = process.env.PGLITE_TEMPLATE;
  return file ? new Blob([await readFile(file)]) : undefined;
}
