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
    return { executor: createPostgresExecutor(env.DATABASE_URL, { max: 1 }), where: 'DATABASE_URL' };
  const dataDir = env.DATA_DIR ?? '.data/pglite';
  // Opening a missing one would create it empty, and the tool fail on a function that does not exist.
  if (!existsSync(dataDir)) {
    throw new Error(
      `no database: DATABASE_URL is not set and there is no embedded database in ${dataDir} (npm start creates it). Set DATABASE_URL to your database`,
    );
  }
  return { executor: await openEmbeddedDatabase(dataDir), where: 'the embedded database' };
}

/**
 * Errors that mean the tool never reached the database of DATABASE_URL: the network's (nothing listens, no such
 * host, unreachable, timed out) and PostgreSQL's for the login (28P01 wrong password, 28000 no such role or not
 * allowed, 3D000 no such database).
 */
const CANNOT_CONNECT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  '28P01',
  '28000',
  '3D000',
]);

/** Where DATABASE_URL points, without its user or password: host, port and database. */
function databaseAddress(url: string): string {
  try {
    const { host, pathname } = new URL(url);
    return `${host}${pathname}`;
  } catch {
    return 'which is not a URL';
  }
}

/**
 * A tool's failure as one line for its operator. When it could not reach the database of DATABASE_URL, the line says
 * so and names the variable and the address (never the password): `connect ECONNREFUSED 127.0.0.1:5432` alone does
 * not say which setting to fix.
 */
export function toolFailureMessage(error: unknown, env: NodeJS.ProcessEnv = process.env): string {
  const { message, code } = (typeof error === 'object' && error !== null ? error : {}) as {
    message?: unknown;
    code?: unknown;
  };
  if (typeof message !== 'string') return String(error);
  if (!env.DATABASE_URL || typeof code !== 'string' || !CANNOT_CONNECT.has(code)) return message;
  return `cannot connect to the database of DATABASE_URL (${databaseAddress(env.DATABASE_URL)}): ${message}`;
}
