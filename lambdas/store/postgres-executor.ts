import { Pool, type PoolConfig } from 'pg';
import type { SqlExecutor } from './sql-executor';

/**
 * A pooled node-postgres connection to `DATABASE_URL` (a local server or Supabase's Postgres). `onNotice` hears what
 * the statements say with RAISE NOTICE (db:migrate prints what the adoption of the guide's table did).
 */
export function createPostgresExecutor(
  connectionString: string,
  options: PoolConfig = {},
  onNotice?: (message: string) => void,
): SqlExecutor {
  const pool = new Pool({ connectionString, max: 4, ...options });
  if (onNotice) pool.on('connect', (client) => client.on('notice', (notice) => onNotice(notice.message ?? '')));
  // An idle connection dropped by the server (restart, failover, outage) is reported here; the pool discards it
  // and opens a new one on the next query. Without a listener Node would treat it as an uncaught error and exit.
  pool.on('error', () => undefined);
  return {
    kind: 'postgres',
    async query<Row>(sql: string, params?: unknown[]) {
      const result = await pool.query(sql, params);
      return { rows: result.rows as Row[] };
    },
    async exec(sql: string) {
      await pool.query(sql);
    },
    async close() {
      await pool.end();
    },
  };
}
