import { existsSync } from 'node:fs';
import { openEmbeddedDatabase } from '../db/embedded-database';
import { createPostgresExecutor } from '../lambdas/store/postgres-executor';
import type { SqlExecutor } from '../lambdas/store/sql-executor';

/**
 * The database an operator tool writes to, on one connection: the one at DATABASE_URL, else the embedded database in
 * DATA_DIR (`.data/pglite`), which refuses to open while `npm start` or another tool has it (db/embedded-database.ts).
 * `where` names it in the tool's output.
 */
export async function openToolDatabase(
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ executor: SqlExecutor; where: 'DATABASE_URL' | 'the embedded database' }> {
  if (env.DATABASE_URL)
    return {
      executor: createPostgresExecutor(env.DATABASE_URL, { max: 1, unreachableSetting: 'DATABASE_URL' }),
      where: 'DATABASE_URL',
    };
  const dataDir = env.DATA_DIR ?? '.data/pglite';
  // Opening a missing one would create it empty, and the tool fail on a function that does not exist.
  if (!existsSync(dataDir)) {
    throw new Error(
      `no database: DATABASE_URL is not set and there is no embedded database in ${dataDir} (npm start creates it). Set DATABASE_URL to your database`,
    );
  }
  return { executor: await openEmbeddedDatabase(dataDir), where: 'the embedded database' };
}
