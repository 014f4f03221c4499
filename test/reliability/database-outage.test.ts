import { Client } from 'pg';
import { startLocalPipeline, type LocalPipeline } from '../../local/local-pipeline';
import { findPostgresBin, startThrowawayPostgres, type ThrowawayPostgres } from '../../local/throwaway-postgres';
import { NO_CREDENTIALS } from '../../lambdas/domain/webhook-auth';
import { postJson } from '../support/local-server-process';

/**
 * A real PostgreSQL server of its own, stopped and started under the running local pipeline: webhooks keep being
 * accepted while it is down, and every status lands once it is back, directly or after a DLQ redrive.
 */
const describeWithServer = findPostgresBin() ? describe : describe.skip;

const webhook = (ids: string[]) => ({ statuses: ids.map((id) => ({ id, status: 'delivered', timestamp: '1704103205', recipient_id: '15550001111' })) });
const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `wamid.${prefix}${i}`);

describeWithServer('database outage (real PostgreSQL stopped and started)', () => {
  let pg: ThrowawayPostgres;
  let pipeline: LocalPipeline;

  async function storedCount(prefix: string): Promise<number> {
    const client = new Client({ connectionString: pg.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: number }>(`select count(*)::int as n from broadcasts_messages where message_id like $1`, [`wamid.${prefix}%`]);
      return rows[0]?.n ?? 0;
    } finally {
      await client.end();
    }
  }

  beforeAll(async () => {
    pg = await startThrowawayPostgres();
    pipeline = await startLocalPipeline({
      port: 0,
      databaseUrl: pg.url,
      dataDir: 'memory',
      maxBodyBytes: 1_048_576,
      credentials: NO_CREDENTIALS,
      allowedSourceCidrs: [],
      visibilityTimeoutMs: 300,
      maxReceiveCount: 4,
      batchSize: 10,
      concurrency: 2,
    });
  }, 60_000);

  afterAll(async () => {
    await pipeline?.close();
    await pg?.stop();
  });

  it('accepts webhooks while the database is down and stores every status when it returns', async () => {
    await pg.pause();
    for (let i = 0; i < 5; i++) {
      const response = await postJson(`${pipeline.url}/webhook`, webhook(ids(`short${i}-`, 20)));
      expect(response).toEqual({ status: 200, body: { accepted: 20, rejected: [] } });
    }
    await new Promise((r) => setTimeout(r, 400)); // at least one failed delivery attempt, well within maxReceiveCount
    expect(pipeline.queue.stats().deadLetters).toBe(0);
    await pg.resume();
    await pipeline.poller.drained(30_000);
    expect(await storedCount('short')).toBe(100);
  }, 60_000);

  it('moves statuses to the DLQ when the outage outlasts the retries, and a redrive stores them all', async () => {
    await pg.pause();
    for (let i = 0; i < 3; i++) {
      expect((await postJson(`${pipeline.url}/webhook`, webhook(ids(`long${i}-`, 30)))).status).toBe(200);
    }
    // maxReceiveCount 4 x visibility 300 ms: after a few seconds everything is dead-lettered.
    const deadline = Date.now() + 20_000;
    while (pipeline.queue.stats().deadLetters < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(pipeline.queue.stats()).toMatchObject({ visible: 0, inFlight: 0, deadLetters: 3 });

    await pg.resume();
    expect(pipeline.queue.redriveDeadLetters()).toBe(3);
    await pipeline.poller.drained(30_000);
    expect(await storedCount('long')).toBe(90);
    expect(pipeline.queue.stats().deadLetters).toBe(0);
  }, 60_000);
});
