import { Client, Pool, type PoolClient, type PoolConfig } from 'pg';
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
  pool.on('connect', (client) => {
    // A socket that dies while the pool has lent the client out (a failover, a reset, a backend ended right after
    // it opened) is reported as the statement's error and, at once, as an 'error' event of the client, which the
    // pool only listens to while the client is idle. This listener is there from the client's first moment, before
    // anyone awaits it: without it Node exits on an unhandled 'error' event.
    client.on('error', () => undefined);
    if (onNotice) client.on('notice', (notice) => onNotice(notice.message ?? ''));
  });
  // An idle connection dropped by the server (restart, failover, outage) is reported here; the pool discards it
  // and opens a new one on the next query. Without a listener Node would treat it as an uncaught error and exit.
  pool.on('error', () => undefined);
  const run = async (sql: string, params?: unknown[]) => {
    if (unreachableSetting === undefined) return pool.query(sql, params);
    let client: PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      // A pool closed by its owner is this process's mistake, not the database's.
      if (pool.ended) throw error;
      throw new DatabaseUnreachableError(unreachableSetting, connectionString, error);
    }
    let failure: unknown;
    try {
      return await client.query(sql, params);
    } catch (error) {
      failure = error;
      throw error;
    } finally {
      // As pool.query does: a connection that failed a statement is not reused.
      client.release(failure as Error | undefined);
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

/**
 * One connection for a whole sequence of statements that must share a session (`begin` ... `rollback` of a dry
 * run): unlike the pool, it never opens another connection behind the caller's back. If its connection is lost,
 * every later statement fails, instead of running on a new connection outside the transaction, in autocommit.
 */
export function createPostgresSession(
  connectionString: string,
  unreachableSetting: string,
  onNotice?: (message: string) => void,
): SqlExecutor {
  const client = new Client({ connectionString });
  // Errors of a lost connection reach the statements that meet them; this keeps the event from ending the process.
  client.on('error', () => undefined);
  if (onNotice) client.on('notice', (notice) => onNotice(notice.message ?? ''));
  let connected: Promise<unknown> | undefined;
  const ready = () =>
    (connected ??= client.connect().catch((error: unknown) => {
      throw new DatabaseUnreachableError(unreachableSetting, connectionString, error);
    }));
  return {
    kind: 'postgres',
    async query<Row>(sql: string, params?: unknown[]) {
      await ready();
      return { rows: (await client.query(sql, params)).rows as Row[] };
    },
    async exec(sql: string) {
      await ready();
      await client.query(sql);
    },
    async close() {
      if (connected) await client.end().catch(() => undefined);
    },
  };
}

/** A connection to the database of a setting could not be opened; the message names the setting, not its secret. */
export class DatabaseUnreachableError extends Error {
  /** The cause's code (ECONNREFUSED, 28P01, ...), for logs that group by it. */
  readonly code: string | undefined;

  constructor(setting: string, connectionString: string, cause: unknown) {
    const { message, code, errors } = (cause ?? {}) as { message?: unknown; code?: unknown; errors?: unknown };
    // Node 20 tries every address of a name (localhost: ::1 and 127.0.0.1) and, when all fail, gives an
    // AggregateError with an empty message: its errors say why.
    const reason =
      typeof message === 'string' && message !== ''
        ? message
        : Array.isArray(errors) && errors.length
          ? errors.map((e: { message?: unknown }) => String(e?.message ?? '')).join('; ')
          : typeof code === 'string'
            ? code
            : 'no reason given';
    const address = databaseAddress(connectionString);
    super(
      address === undefined
        ? // A password with an unencoded /, # or ? makes the URL read part of it as the host: pg's own message would
          // then quote that part, so neither it nor the address is repeated.
          `cannot connect to the database of ${setting}: its URL does not read as user:password@host:port/database (in a password, write / as %2F, # as %23, ? as %3F and @ as %40)`
        : `cannot connect to the database of ${setting} (${address}): ${reason}`,
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
