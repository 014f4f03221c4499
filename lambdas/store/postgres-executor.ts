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
    // A socket that dies mid-statement (a failover, a reset) is reported as the statement's error and, at once, as an
    // 'error' event of the client, which the pool stops listening to while the client is lent out: pool.query
    // listens for it, and so must this, or Node exits on an unhandled 'error' event.
    const ignore = () => undefined;
    client.on('error', ignore);
    try {
      const result = await client.query(sql, params);
      client.off('error', ignore);
      client.release();
      return result;
    } catch (error) {
      client.off('error', ignore);
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
  /** The cause's code (ECONNREFUSED, 28P01, ...), for logs that group by it. */
  readonly code: string | undefined;

  constructor(setting: string, connectionString: string, cause: unknown) {
    const { message: reason, code } = (cause ?? {}) as { message?: unknown; code?: unknown };
    const address = databaseAddress(connectionString);
    super(
      address === undefined
        ? // A password with an unencoded @ or / makes the URL read part of it as the host: pg's own message would
          // then quote that part, so neither it nor the address is repeated.
          `cannot connect to the database of ${setting}: its URL does not read as user:password@host:port/database (in a password, write / as %2F, # as %23, ? as %3F and @ as %40)`
        : `cannot connect to the database of ${setting} (${address}): ${typeof reason === 'string' ? reason : String(cause)}`,
      { cause },
    );
    this.name = 'DatabaseUnreachableError';
    this.code = typeof code === 'string' ? code : undefined;
  }
}

/**
 * Host, port and database name of a connection string, without its user or password; undefined when the string does
 * not read unambiguously as one: not a URL, or an @ outside the user:password part (a password with an unencoded /,
 * # or ? ends the URL's authority early, and what followed it, part of the password, would be read as host, path or
 * fragment).
 */
function databaseAddress(connectionString: string): string | undefined {
  // pg also takes an empty host before a socket directory (postgres://user@/db?host=/run/postgresql), which URL does not.
  const url =
    parseUrl(connectionString) ?? parseUrl(connectionString.replace(/^([a-z]+:\/\/[^/@]*@)\//i, '$1localhost/'));
  if (!url) return undefined;
  const authorityHasUser = url.username !== '' || url.password !== '';
  if (
    /@/.test(url.host + url.pathname + url.search + url.hash) ||
    (connectionString.includes('@') && !authorityHasUser)
  )
    return undefined;
  // A socket directory instead of a host (postgres://user@/db?host=/var/run/postgresql) is where pg connects.
  const host = url.searchParams.get('host') || url.host || 'localhost';
  const database = url.pathname.replace(/^\//, ''); // as written: decoding could throw on a stray %
  return `${host}${database ? `/${database}` : ''}`;
}

function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}
