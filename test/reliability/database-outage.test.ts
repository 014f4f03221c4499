import { Client } from 'pg';
import { findPostgresBin, startThrowawayPostgres, type ThrowawayPostgres } from '../../db/throwaway-postgres';
import { outageToleranceSeconds, receivesToOutlast } from '../../lambdas/domain/outage-backoff';
import { NO_CREDENTIALS } from '../../lambdas/domain/webhook-auth';
import { type LocalPipeline, localOutageBackoff, startLocalPipeline } from '../../local/local-pipeline';
import { postJson } from '../../testkit/local-server-process';

/**
 * A real PostgreSQL server of its own, stopped and started under the running local pipeline, whose queue runs on a
 * simulated clock: hours of outage play in seconds, with the deployed figures (visibility timeout 180 s, the outage
 * backoff, the maxReceiveCount the stack derives for 6 hours). Webhooks keep being accepted while it is down, nothing
 * reaches the DLQ but a record that is bad on its own, and every status lands once the database is back.
 */
const describeWithServer = findPostgresBin() ? describe : describe.skip;

const MINUTE = 60_000;
const VISIBILITY_MS = 180_000;
const TOLERANCE_HOURS = 6;
const backoff = localOutageBackoff(VISIBILITY_MS);
const maxReceiveCount = receivesToOutlast(TOLERANCE_HOURS * 3_600, backoff);

const webhook = (ids: string[]) => ({
  statuses: ids.map((id) => ({ id, status: 'delivered', timestamp: '1704103205', recipient_id: '15550001111' })),
});
const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `wamid.${prefix}${i}`);

describeWithServer('database outage (real PostgreSQL stopped and started, simulated time)', () => {
  let pg: ThrowawayPostgres;
  let pipeline: LocalPipeline;
  let now = Date.now();

  async function storedCount(prefix: string): Promise<number> {
    const client = new Client({ connectionString: pg.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: number }>(
        `select count(*)::int as n from broadcasts_messages where message_id like $1`,
        [`wamid.${prefix}%`],
      );
      return rows[0]?.n ?? 0;
    } finally {
      await client.end();
    }
  }

  /** Moves the simulated clock on one minute and lets the processor receive whatever became visible. */
  async function tick(): Promise<void> {
    now += MINUTE;
    pipeline.poller.wake();
    await pipeline.poller.settled(30_000);
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
      visibilityTimeoutMs: VISIBILITY_MS,
      maxReceiveCount,
      batchSize: 10,
      concurrency: 2,
      now: () => now,
    });
  });

  afterAll(async () => {
    await pipeline?.close();
    await pg?.stop();
  });

  it('uses the deployed figures: 11 receives, the last one 6.55 hours after the first', () => {
    expect(maxReceiveCount).toBe(11);
    expect(outageToleranceSeconds(maxReceiveCount, backoff)).toBe(23_580);
  });

  it('accepts webhooks while the database is down and stores every status when it returns', async () => {
    await pg.pause();
    for (let i = 0; i < 5; i++) {
      const response = await postJson(`${pipeline.url}/webhook`, webhook(ids(`short${i}-`, 20)));
      expect(response).toEqual({ status: 200, body: { accepted: 20, rejected: [] } });
    }
    for (let minute = 0; minute < 10; minute++) await tick();
    expect(pipeline.queue.stats().deadLetters).toBe(0);
    await pg.resume();
    for (let minute = 0; minute < 30 && pipeline.queue.stats().inFlight + pipeline.queue.stats().visible > 0; minute++)
      await tick();
    expect(await storedCount('short')).toBe(100);
  }, 120_000);

  it('survives 6 hours of outage under load: only the bad record is dead-lettered, in 33 minutes; all else is stored within the hour after', async () => {
    await pg.pause();
    pipeline.queue.send('{"not":"a status message"}');
    let accepted = 0;
    let poisonDeadAfterMinutes: number | undefined;
    for (let minute = 0; minute < TOLERANCE_HOURS * 60; minute++) {
      // Traffic continues: a webhook of 10 statuses every 5 simulated minutes (720 statuses over the outage).
      if (minute % 5 === 0) {
        const response = await postJson(`${pipeline.url}/webhook`, webhook(ids(`long${minute}-`, 10)));
        expect(response.status).toBe(200);
        accepted += 10;
      }
      await tick();
      const { deadLetters } = pipeline.queue.stats();
      if (deadLetters > 0) poisonDeadAfterMinutes ??= minute + 1;
      // The bad record alone; no status message ever.
      expect(deadLetters).toBeLessThanOrEqual(1);
    }
    expect(poisonDeadAfterMinutes).toBeLessThanOrEqual(maxReceiveCount * 3 + 1);
    expect(pipeline.queue.stats().deadLetters).toBe(1);

    await pg.resume();
    let minutesToStoreAll = 0;
    while ((await storedCount('long')) < accepted && minutesToStoreAll < 120) {
      await tick();
      minutesToStoreAll++;
    }
    expect({ stored: await storedCount('long'), deadLetters: pipeline.queue.stats().deadLetters }).toEqual({
      stored: accepted,
      deadLetters: 1,
    });
    // The longest wait between two receives is an hour: nothing waits longer once the database is back.
    expect(minutesToStoreAll).toBeLessThanOrEqual(61);
    process.stdout.write(
      `outage 6 h: ${accepted} statuses accepted, 0 dead-lettered; the bad record dead-lettered after ${poisonDeadAfterMinutes} min; all stored ${minutesToStoreAll} min after the database returned\n`,
    );
  }, 300_000);
});
