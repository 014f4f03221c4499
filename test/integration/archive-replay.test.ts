import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { StatusTimeWindow } from '../../lambdas/domain/timestamps';
import { NO_CREDENTIALS } from '../../lambdas/domain/webhook-auth';
import type { SqlExecutor } from '../../lambdas/store/sql-executor';
import { SqlTrackerStore } from '../../lambdas/store/sql-tracker-store';
import { archiveDataRoot } from '../../local/file-webhook-archive';
import { type LocalPipeline, startLocalPipeline } from '../../local/local-pipeline';
import { postJson } from '../../testkit/local-server-process';
import {
  aisensyMessage,
  aisensyWebhook,
  flatWebhook,
  metaFailedStatus,
  metaStatus,
  metaWebhook,
} from '../../testkit/webhooks';
import { type ReplayOptions, replayArchive } from '../../tools/replay-archive';
import { createTestDatabase, hasRealPostgres, type TestDatabase } from '../support/databases';
import { shuffled } from '../support/generators';

const describeOnRealPostgres = hasRealPostgres() ? describe : describe.skip;
const WINDOW: StatusTimeWindow = { maxPastMs: 30 * 86_400_000, maxFutureMs: 300_000 };

/** Every column of every row except those that say when the row was written (id, created_at, updated_at). */
async function allRows(executor: SqlExecutor): Promise<Record<string, unknown>[]> {
  const { rows: columns } = await executor.query<{ column_name: string }>(
    `select column_name from information_schema.columns
      where table_schema = 'public' and table_name = 'broadcasts_messages'
        and column_name not in ('id', 'created_at', 'updated_at') order by ordinal_position`,
  );
  const list = columns.map((c) => `"${c.column_name}"`).join(', ');
  return (await executor.query(`select ${list} from public.broadcasts_messages order by message_id`)).rows;
}

/** Webhooks of the three formats, an hour of traffic before now: stages out of order, duplicates, failures, a bad item. */
function traffic(nowSeconds: number): unknown[] {
  const t = (offset: number) => String(nowSeconds - 3_600 + offset);
  const webhooks: unknown[] = [];
  for (let m = 0; m < 40; m++) {
    const id = `wamid.replay${m}`;
    const phone = `91987654${String(m).padStart(4, '0')}`;
    if (m % 3 === 0) {
      webhooks.push(metaWebhook([metaStatus({ id, status: 'read', timestamp: t(m + 60), recipient_id: phone })]));
      webhooks.push(metaWebhook([metaStatus({ id, status: 'sent', timestamp: t(m), recipient_id: phone })]));
      if (m % 2 === 0) webhooks.push(metaWebhook([metaFailedStatus({ id, timestamp: t(m + 5), recipient_id: phone })]));
    } else if (m % 3 === 1) {
      const message = aisensyMessage({
        messageId: id,
        id: `ais-${m}`,
        phone_number: phone,
        status: 'READ',
        sent_at: (Number(t(m)) * 1000) as unknown as string,
        delivered_at: (Number(t(m + 3)) * 1000) as unknown as string,
        read_at: (Number(t(m + 90)) * 1000) as unknown as string,
        campaign: { name: `campaign_${m % 4}` },
      });
      webhooks.push(aisensyWebhook(message));
    } else {
      webhooks.push(
        flatWebhook([
          { id, status: 'delivered', timestamp: t(m + 4), recipient_id: phone },
          { id, status: 'sent', timestamp: t(m), recipient_id: phone },
          { id, status: 'teleported', timestamp: t(m + 9) },
        ]),
      );
    }
  }
  // Providers retry: some webhooks twice.
  return shuffled([...webhooks, ...webhooks.filter((_, i) => i % 4 === 0)], 11);
}

describeOnRealPostgres('archive and replay through the local pipeline (real PostgreSQL)', () => {
  let db: TestDatabase;
  let pipeline: LocalPipeline;
  let archiveDir: string;
  let replay: Omit<ReplayOptions, 'store'>;
  const started = Date.now();

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    archiveDir = mkdtempSync(path.join(tmpdir(), 'archive-'));
    pipeline = await startLocalPipeline({
      port: 0,
      databaseUrl: db.url,
      dataDir: 'memory',
      maxBodyBytes: 1_048_576,
      credentials: NO_CREDENTIALS,
      allowedSourceCidrs: [],
      visibilityTimeoutMs: 2_000,
      maxReceiveCount: 5,
      batchSize: 10,
      concurrency: 2,
      statusTimeWindow: WINDOW,
      archiveDir,
    });
    const { localArchiveSource } = await import('../../tools/replay-archive');
    replay = {
      source: localArchiveSource(archiveDataRoot(archiveDir)),
      fromMs: started - 60_000,
      toMs: Date.now() + 600_000,
      window: WINDOW,
      maxStatusesPerWebhook: 5_000,
      batchSize: 25,
    };
  });
  afterAll(async () => {
    await pipeline.close();
    await db.drop();
    rmSync(archiveDir, { recursive: true, force: true });
  });

  it('archives every webhook in the date layout, replays into the full table without a change, and rebuilds an emptied one exactly', async () => {
    const webhooks = traffic(Math.floor(Date.now() / 1000));
    for (const body of webhooks) expect((await postJson(`${pipeline.url}/webhook`, body)).status).toBe(200);
    // One the current rules refuse (400): archived all the same.
    expect((await postJson(`${pipeline.url}/webhook`, { event: 'a shape no rule knows yet' })).status).toBe(400);
    await pipeline.poller.drained(60_000);

    // The archive: .../webhooks/year=YYYY/month=MM/day=DD/hour=HH/local-*.jsonl, one line per webhook.
    const root = archiveDataRoot(archiveDir);
    const files = readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.jsonl'));
    expect(files.length).toBeGreaterThanOrEqual(1);
    for (const file of files)
      expect(file).toMatch(/^year=\d{4}\/month=\d{2}\/day=\d{2}\/hour=\d{2}\/local-\d+-\d+\.jsonl$/);
    const lines = files.flatMap((f) => readFileSync(path.join(root, f), 'utf8').split('\n').filter(Boolean));
    expect(lines).toHaveLength(webhooks.length + 1);

    const original = await allRows(db.executor);
    expect(original).toHaveLength(40);
    const { rows: writtenBefore } = await db.executor.query<{ updated_at: Date }>(
      'select max(updated_at) as updated_at from public.broadcasts_messages',
    );
    const store = new SqlTrackerStore(db.executor);

    // 1. Into the table that holds the data already: nothing changes, not even updated_at.
    const again = await replayArchive({ ...replay, store });
    expect(again).toMatchObject({ bodies: webhooks.length + 1, rowsInserted: 0, rowsChanged: 0 });
    expect(again.statuses).toBeGreaterThan(80);
    expect(again.bodiesRefused).toEqual({
      'unknown envelope: expected an AiSensy webhook ("topic"), a Meta webhook ("object") or {"statuses": [...]}': 1,
    });
    expect(again.statusesRejected).toEqual({ 'unknown status "…"': 17 });
    expect(await allRows(db.executor)).toEqual(original);
    const { rows: writtenAfter } = await db.executor.query<{ updated_at: Date }>(
      'select max(updated_at) as updated_at from public.broadcasts_messages',
    );
    expect(writtenAfter).toEqual(writtenBefore);

    // 2. Into an emptied table: every row comes back, column for column.
    await db.executor.query('truncate public.broadcasts_messages');
    const rebuilt = await replayArchive({ ...replay, store });
    expect(rebuilt).toMatchObject({ rowsInserted: 40, statuses: again.statuses });
    expect(await allRows(db.executor)).toEqual(original);

    // 3. A dry run reads and normalizes, and writes nothing.
    await db.executor.query('truncate public.broadcasts_messages');
    const dry = await replayArchive(replay);
    expect(dry).toMatchObject({ bodies: webhooks.length + 1, statuses: again.statuses, rowsInserted: 0 });
    expect(await allRows(db.executor)).toEqual([]);
  }, 120_000);

  it('reads only the period asked for', async () => {
    const later = await replayArchive({ ...replay, fromMs: Date.now() + 3_600_000, toMs: Date.now() + 7_200_000 });
    expect(later).toMatchObject({ bodies: 0, statuses: 0 });
  });
});
