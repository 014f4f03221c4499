import { existsSync } from 'node:fs';
import { openEmbeddedDatabase } from '../db/embedded-database';
import { Report } from '../lambdas/report/report-data';
import { type ReportSource, sourceFromExecutor } from '../lambdas/report/report-source';
import { DEFAULT_HEALTH_WINDOWS, DeliveryHealth } from '../lambdas/store/health-store';
import { createPostgresExecutor } from '../lambdas/store/postgres-executor';

/** The running `npm start`'s address: LOCAL_URL, else 127.0.0.1 on PORT (default 3000). */
export function localServerUrl(env: NodeJS.ProcessEnv = process.env): string {
  return env.LOCAL_URL ?? `http://127.0.0.1:${env.PORT ?? 3000}`;
}

/**
 * GET a report route of the running server with the shared token it expects (the same WEBHOOK_SHARED_TOKEN that
 * `npm start` and seed:demo read). The error names the route and the status, never the token.
 */
async function getJson(url: string, token: string | undefined): Promise<unknown> {
  const response = await fetch(url, { headers: token ? { 'x-webhook-token': token } : {} });
  if (response.status === 401) {
    throw new Error(
      `${new URL(url).pathname} answered 401: set WEBHOOK_SHARED_TOKEN to the token the server was started with`,
    );
  }
  if (!response.ok) throw new Error(`${new URL(url).pathname} answered ${response.status}`);
  return response.json();
}

async function localServer(baseUrl: string): Promise<boolean> {
  try {
    const response = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(1_000) });
    return response.ok;
  } catch {
    return false;
  }
}

/**
 * Where the operator tools read from, in this order: DATABASE_URL (a local server or Supabase's Postgres); the
 * running `npm start` (its embedded database cannot be opened by a second process, so the server answers
 * GET /report and GET /delivery-health itself); the embedded database in DATA_DIR when no server runs.
 */
export async function openReportSource(env: NodeJS.ProcessEnv = process.env): Promise<ReportSource> {
  if (env.DATABASE_URL)
    return sourceFromExecutor(
      createPostgresExecutor(env.DATABASE_URL, { max: 8, unreachableSetting: 'DATABASE_URL' }),
      'DATABASE_URL',
    );
  const baseUrl = localServerUrl(env);
  if (await localServer(baseUrl)) {
    const token = env.WEBHOOK_SHARED_TOKEN?.trim() || undefined;
    return {
      describe: `the running local server at ${baseUrl}`,
      masksPhones: true,
      async report(options) {
        const query = new URLSearchParams({
          from: options.from.toISOString(),
          to: options.to.toISOString(),
          timeZone: options.timeZone ?? 'UTC',
        });
        if (options.undeliveredAfterMinutes !== undefined)
          query.set('undeliveredAfterMinutes', String(options.undeliveredAfterMinutes));
        return Report.parse(await getJson(`${baseUrl}/report?${query}`, token));
      },
      health: async (windows = DEFAULT_HEALTH_WINDOWS) =>
        DeliveryHealth.parse(
          await getJson(
            `${baseUrl}/delivery-health?${new URLSearchParams(Object.entries(windows).map(([k, v]): [string, string] => [k, String(v)]))}`,
            token,
          ),
        ),
      close: async () => undefined,
    };
  }
  const dataDir = env.DATA_DIR ?? '.data/pglite';
  if (!existsSync(dataDir))
    throw new Error(`no database: set DATABASE_URL, run npm start, or create ${dataDir} with npm run db:migrate`);
  return sourceFromExecutor(await openEmbeddedDatabase(dataDir), `the embedded database in ${dataDir}`);
}
