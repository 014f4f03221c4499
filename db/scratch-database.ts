import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { createPgliteExecutor } from '../lambdas/store/pglite-executor';
import { createPostgresExecutor } from '../lambdas/store/postgres-executor';
import type { SqlExecutor } from '../lambdas/store/sql-executor';
import { applyMigrations } from './migrations';

export interface ScratchDatabase {
  executor: SqlExecutor;
  /** Connection string (PostgreSQL only), for callers that open their own connections. */
  url?: string;
  drop(): Promise<void>;
}

export interface ScratchOptions {
  /** Runs on the empty database before the migrations (roles, a table to adopt). */
  beforeMigrations?: (executor: SqlExecutor) => Promise<void>;
  /** @default 8 */
  poolSize?: number;
}

/**
 * A fresh, migrated database of its own on the PostgreSQL server at `adminUrl` (a role that may create databases),
 * dropped afterwards: for tests, the alert simulator and benchmarks, so they can run side by side.
 */
export async function createScratchDatabase(adminUrl: string, options: ScratchOptions = {}): Promise<ScratchDatabase> {
  const name = `scratch_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const executor = createPostgresExecutor(url.toString(), { max: options.poolSize ?? 8 });
  await options.beforeMigrations?.(executor);
  await applyMigrations(executor);
  return {
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

/** The same in memory (PGlite): no server needed. */
export async function createScratchPglite(options: ScratchOptions = {}): Promise<ScratchDatabase> {
  const executor = await createPgliteExecutor();
  await options.beforeMigrations?.(executor);
  await applyMigrations(executor);
  return { executor, drop: () => executor.close() };
}
