import { existsSync } from 'node:fs';
import { createPgliteExecutor } from '../lambdas/store/pglite-executor';
import { createPostgresExecutor } from '../lambdas/store/postgres-executor';
import type { SqlExecutor } from '../lambdas/store/sql-executor';
import { Report, buildReport, type ReportOptions } from './report-data';

/**
 * Where the operator tools read from, in this order: DATABASE_URL (a local server or Supabase's Postgres); the
 * running `npm start` (its embedded database cannot be opened by a second process, so the server answers
 * GET /report itself); the embedded database in DATA_DIR when no server runs.
 */
export interface ReportSource {
  describe: string;
  report(options: ReportOptions): Promise<Report>;
  /** Direct SQL, when the source is a database (not the running server). */
  executor?: SqlExecutor;
  close(): Promise<void>;
}

export function sourceFromExecutor(executor: SqlExecutor, describe: string): ReportSource {
  return {
    describe,
    executor,
    report: (options) => buildReport(async (sql, params) => (await executor.query(sql, params)).rows, options),
    close: () => executor.close(),
  };
}

async function localServer(baseUrl: string): Promise<boolean> {
  try {
    const response = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(1_000) });
    return response.ok;
  } catch {
    return false;
  }
}

export async function openReportSource(env: NodeJS.ProcessEnv = process.env): Promise<ReportSource> {
  if (env.DATABASE_URL) return sourceFromExecutor(createPostgresExecutor(env.DATABASE_URL, { max: 8 }), 'DATABASE_URL');
  const baseUrl = env.LOCAL_URL ?? `http://127.0.0.1:${env.PORT ?? 3000}`;
  if (await localServer(baseUrl)) {
    return {
      describe: `the running local server at ${baseUrl}`,
      async report(options) {
        const query = new URLSearchParams({ from: options.from.toISOString(), to: options.to.toISOString() });
        const response = await fetch(`${baseUrl}/report?${query}`);
        if (!response.ok) throw new Error(`${baseUrl}/report answered ${response.status}`);
        return Report.parse(await response.json());
      },
      close: async () => undefined,
    };
  }
  const dataDir = env.DATA_DIR ?? '.data/pglite';
  if (!existsSync(dataDir)) throw new Error(`no database: set DATABASE_URL, run npm start, or create ${dataDir} with npm run db:migrate`);
  return sourceFromExecutor(await createPgliteExecutor(dataDir), `the embedded database in ${dataDir}`);
}
