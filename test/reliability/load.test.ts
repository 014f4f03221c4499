import { type LoadResult, runLoad } from '../../scripts/load-test';
import { type LocalServerProcess, startLocalServerProcess, waitUntilDrained } from '../../testkit/local-server-process';
import { createTestDatabase, hasRealPostgres, type TestDatabase } from '../support/databases';

/**
 * A short load (CI) against `npm start` on real PostgreSQL: many connections, every webhook a new message; the
 * database must end with exactly one row per accepted webhook and there must be no error response.
 */
const describeOnRealPostgres = hasRealPostgres() ? describe : describe.skip;
const REQUESTS = Number(process.env.LOAD_REQUESTS ?? 3_000);

describeOnRealPostgres('load against npm start', () => {
  let db: TestDatabase;
  let server: LocalServerProcess;
  let result: LoadResult;

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    server = await startLocalServerProcess({
      DATABASE_URL: db.url ?? '',
      PROCESSOR_CONCURRENCY: '4',
      PROCESSOR_BATCH_SIZE: '10',
    });
    result = await runLoad({ url: server.url, connections: 50, amount: REQUESTS, prefix: 'load' });
    await waitUntilDrained(server.url, 60_000);
    process.stdout.write(
      `\n[load] ${result.requests} webhooks, 50 connections: ${result.requestsPerSecond.toFixed(0)} req/s, p50 ${result.latencyP50Ms} ms, p99 ${result.latencyP99Ms} ms, ${result.non2xx} non-2xx, ${result.errors} errors\n`,
    );
  }, 180_000);

  afterAll(async () => {
    await server?.stop();
    await db?.drop();
  });

  it('answers every webhook with 2xx', () => {
    expect(result).toMatchObject({ requests: REQUESTS, ok: REQUESTS, non2xx: 0, errors: 0, timeouts: 0 });
  });

  it('stores exactly one row per accepted webhook', async () => {
    const { rows } = await db.executor.query<{ n: number }>(
      `select count(*)::int as n from broadcasts_messages where message_id like 'wamid.load%'`,
    );
    expect(rows[0]?.n).toBe(result.ok);
  });
});
