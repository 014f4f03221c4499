import { Pool, type PoolClient, type PoolConfig } from 'pg';
import type { SqlExecutor } from './sql-executor';

export interface PostgresExecutorOptions extends PoolConfig {
  /**
   * The setting the connection string came from (`DATABASE_URL`). When given, a failure to connect (nothing listens,
   * no such host, TLS, a wrong password, role or database, a timeout) is rethrown saying it could not connect to the
   * database of that setting, and where, never with the password: `connect ECONNREFUSED 127.0.0.1:5432` alone does
   * not tell an operator which setting to fix. Failures of a statement are left as they are.
   */
  unreachableSetting?: string;
}

/**
 * A pooled node-postgres connection to `DATABASE_URL` (a local server or Supabase's Postgres). `onNotice` hears what
 * the statements say with RAISE NOTICE (db:migrate prints what the adoption of the guide's table did).
 */
export function createPostgresExecutor(
  connectionString: string,
  { unreachableSetting, ...options }: PostgresExecutorOptions = {},
  onNotice?: (message: string) => void,
): SqlExecutor {
  const pool = new Pool({ connectionString, max: 4, ...options });
  if (onNotice) pool.on('connect', (client) => client.on('notice', (notice) => onNotice(notice.message ?? '')));
  // An idle connection dropped by the server (restart, failover, outage) is reported here; the pool discards it
  // and opens a new one on the next query. Without a listener Node would treat it as an uncaught error and exit.
  pool.on('error', () => undefined);
  const run = async (sql: string, params?: unknown[]) => {
    if (unreachableSetting === undefined) return pool.query(sql, params);
    let client: PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      throw new DatabaseUnreachableError(unreachableSetting, connectionString, error);
    }
    try {
      const result = await client.query(sql, params);
      client.release();
      return result;
    } catch (error) {
      client.release(error as Error); // as pool.query does: a connection that failed a statement is not reused
      throw error;
    }
  };
  return {
    kind: 'postgres',
    async query<Row>(sql: string, params?: unknown[]) {
      const result = await run(sql, params);
      return { rows: result.rows as Row[] };
    },
    async exec(sql: string) {
      await run(sql);
    },
    async close() {
      await pool.end();
    },
  };
}

/** A connection to the database of a setting could not be opened; the message names the setting, not its secret. */
export class DatabaseUnreachableError extends Error {
  constructor(setting: string, connectionString: string, cause: unknown) {
    const reason = (cause as { message?: unknown } | null)?.message;
    const address = databaseAddress(connectionString);
    super(
      address === undefined
        ? // A password with an unencoded @ or / makes the URL read part of it as the host: pg's own message would
          // then quote that part, so neither it nor the address is repeated.
          `cannot connect to the database of ${setting}: its URL does not read as user:password@host:port/database (a password with @, / or # must be percent-encoded: %40, %2F, %23)`
        : `cannot connect to the database of ${setting} (${address}): ${typeof reason === 'string' ? reason : String(cause)}`,
      { cause },
    );
    this.name = 'DatabaseUnreachableError';
  }
}

/**
 * Host, port and database name of a connection string, without its user or password; undefined when the string
 * does not read unambiguously as one (not a URL, or an @ left after the one that ends the password).
 */
function databaseAddress(connectionString: string): string | undefined {
  let url: URL;
  try {
    url = new URL(connectionString);
  } catch {
    return undefined;
  }
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (/[@/]/.test(database) || /@/.test(url.host)) return undefined;
  return `${url.host}${database ? `/${database}` : ''}`;
}
