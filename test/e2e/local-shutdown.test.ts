import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { findPostgresBin, startThrowawayPostgres, type ThrowawayPostgres } from '../../db/throwaway-postgres';
import { NO_CREDENTIALS } from '../../lambdas/domain/webhook-auth';
import { startLocalPipeline } from '../../local/local-pipeline';
import { QueueSpool } from '../../local/queue-spool';
import {
  LISTEN_DEADLINE_MS,
  postJson,
  startLocalServerProcess,
  waitUntilDrained,
} from '../../testkit/local-server-process';

/**
 * Issue 11, item 5: SIGTERM to `npm start` while the database was down answered 50 webhooks with 200 and stored
 * none, silently. Now the shutdown says what it could not store, keeps it in a spool file, and the next start
 * stores it. A real `npm start` process and a real PostgreSQL server, stopped and started.
 */
const describeWithServer = findPostgresBin() ? describe : describe.skip;

const webhook = (id: string) => ({
  statuses: [{ id, status: 'delivered', timestamp: '1704103205', recipient_id: '15550001111' }],
});

describeWithServer('npm start shutting down while the database is down', () => {
  let pg: ThrowawayPostgres;
  let spoolFile: string;

  async function stored(prefix: string): Promise<number> {
    const client = new Client({ connectionString: pg.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: number }>(
        `select count(*)::int as n from broadcasts_messages where message_id like $1`,
        [`${prefix}%`],
      );
      return rows[0]?.n ?? 0;
    } finally {
      await client.end();
    }
  }

  beforeAll(async () => {
    pg = await startThrowawayPostgres();
    spoolFile = path.join(mkdtempSync(path.join(tmpdir(), 'shutdown-')), 'undelivered.json');
  });
  afterAll(() => pg?.stop());

  it(
    'keeps the 50 accepted statuses it could not store, says so, and stores them at the next start',
    async () => {
      const env = {
        DATABASE_URL: pg.url,
        SPOOL_FILE: spoolFile,
        SHUTDOWN_DRAIN_MS: '2000',
        QUEUE_VISIBILITY_TIMEOUT_MS: '200',
      };
      const first = await startLocalServerProcess(env);
      await pg.pause();
      try {
        for (let i = 0; i < 50; i++)
          expect((await postJson(`${first.url}/webhook`, webhook(`wamid.shutdown-${i}`))).status).toBe(200);
      } finally {
        await first.stop();
      }

      expect(first.output()).toContain(
        `shutdown: 50 accepted statuses (50 queue messages) could not be stored; kept in ${spoolFile}, re-queued at the next npm start`,
      );
      const spool = QueueSpool.parse(JSON.parse(readFileSync(spoolFile, 'utf8')));
      expect(spool.queued).toHaveLength(50);

      await pg.resume();
      const second = await startLocalServerProcess(env);
      try {
        expect(second.output()).toContain(
          `re-queued 50 queue messages and 0 dead letters kept by the last shutdown in ${spoolFile}`,
        );
        expect(existsSync(spoolFile)).toBe(false);
        await waitUntilDrained(second.url);
        expect(await stored('wamid.shutdown-')).toBe(50);
      } finally {
        await second.stop();
      }
      expect(second.output()).toContain('shutdown: every accepted status was stored');
      expect(existsSync(spoolFile)).toBe(false);
    },
    2 * LISTEN_DEADLINE_MS + 60_000,
  );

  it('answers 503, not 200, to a webhook that arrives once the shutdown began', async () => {
    const pipeline = await startLocalPipeline({
      port: 0,
      databaseUrl: pg.url,
      dataDir: 'memory',
      maxBodyBytes: 1_048_576,
      credentials: NO_CREDENTIALS,
      allowedSourceCidrs: [],
      visibilityTimeoutMs: 200,
      maxReceiveCount: 20,
      batchSize: 10,
      concurrency: 2,
    });
    await pg.pause();
    try {
      expect((await postJson(`${pipeline.url}/webhook`, webhook('wamid.early'))).status).toBe(200);
      // With a status it cannot store, the shutdown keeps the server up while it tries (5 s): the late webhook is
      // answered meanwhile. No spool file configured: the report still counts what is lost.
      const shutdown = pipeline.shutdown(5_000);
      const late = await postJson(`${pipeline.url}/webhook`, webhook('wamid.late'));
      expect(late).toEqual({ status: 503, body: { error: 'shutting down' } });
      expect(await shutdown).toEqual({
        unstored: { messages: 1, statuses: 1 },
        deadLetters: { messages: 0, statuses: 0 },
      });
    } finally {
      await pg.resume();
    }
  });
});
