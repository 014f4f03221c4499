import { PGlite } from '@electric-sql/pglite';
import type { SqlExecutor } from './sql-executor';

/**
 * Embedded Postgres (WASM) for the local run and for tests on machines without a PostgreSQL server.
 * `dataDir` persists the database (e.g. `.data/pglite`); omitted, it lives in memory.
 */
export async function createPgliteExecutor(dataDir?: string): Promise<SqlExecutor> {
  const db = dataDir ? await PGlite.create(dataDir) : await PGlite.create();
  return {
    kind: 'pglite',
    async query<Row>(sql: string, params?: unknown[]) {
      const result = await db.query<Row>(sql, params);
      return { rows: result.rows };
    },
    async exec(sql: string) {
      await db.exec(sql);
    },
    async close() {
      await db.close();
    },
  };
}
