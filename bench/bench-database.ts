import { Client } from 'pg';
import { applyMigrations } from '../db/migrations';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../db/throwaway-postgres';
import { createPostgresExecutor } from '../lambdas/store/postgres-executor';
import type { SqlExecutor } from '../lambdas/store/sql-executor';

export interface BenchDatabase {
  /** The throwaway server (its `url` is the admin database; `stop()` when done). */
  server: ThrowawayPostgres;
  /** The migrated database `bench` on it. */
  url: string;
}

/**
 * The benchmarks' PostgreSQL: a throwaway server with durable settings (fsync on, as a real database pays), and a
 * database `bench` on it with every migration; `afterMigrations` adds what a benchmark needs besides (the original
 * guide's table).
 */
export async function startBenchDatabase(
  afterMigrations?: (executor: SqlExecutor) => Promise<void>,
): Promise<BenchDatabase> {
  const server = await startThrowawayPostgres({ fast: false });
  const admin = new Client({ connectionString: server.url });
  await admin.connect();
  await admin.query('create database bench');
  await admin.end();
  const url = server.url.replace(/\/postgres$/, '/bench');
  const setup = createPostgresExecutor(url, { max: 1 });
  try {
    await applyMigrations(setup);
    await afterMigrations?.(setup);
  } finally {
    await setup.close();
  }
  return { server, url };
}
