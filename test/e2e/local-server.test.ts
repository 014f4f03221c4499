import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createPgliteExecutor } from '../../lambdas/store/pglite-executor';
import type { SqlExecutor } from '../../lambdas/store/sql-executor';
import {
  LISTEN_DEADLINE_MS,
  type LocalServerProcess,
  postJson,
  startLocalServerProcess,
  waitUntilDrained,
} from '../../testkit/local-server-process';
import { aisensyMessage, aisensyWebhook, metaStatus, metaWebhook } from '../../testkit/webhooks';
import {
  GUIDE_BATCH_OF_THREE,
  GUIDE_READ_BEFORE_DELIVERED,
  GUIDE_SENT_DELIVERED_READ,
} from '../fixtures/guide-examples';
import { createTestDatabase, hasRealPostgres, type TestDatabase } from '../support/databases';
import { type MessageRow, readRows } from '../support/status-rows';

/**
 * `npm start` over HTTP: the real ingest handler, the real AWS SDK against the local SQS endpoint, the local queue
 * and the real processor writing to PostgreSQL (the test database) or, without a server, to PGlite on disk.
 */
describe(`npm start end to end (${hasRealPostgres() ? 'PostgreSQL' : 'PGlite'})`, () => {
  let server: LocalServerProcess;
  let db: TestDatabase | undefined;
  let dataDir: string | undefined;
  let rows: MessageRow[];
  let health: unknown;
  let eventsFile: string;
  let archiveDir: string;
  const guideWebhooks = [...GUIDE_SENT_DELIVERED_READ, ...GUIDE_READ_BEFORE_DELIVERED, GUIDE_BATCH_OF_THREE];

  beforeAll(async () => {
    eventsFile = path.join(await mkdtemp(path.join(tmpdir(), 'e2e-events-')), 'events.ndjson');
    archiveDir = await mkdtemp(path.join(tmpdir(), 'e2e-archive-'));
    const files = { STATUS_EVENTS_FILE: eventsFile, ARCHIVE_DIR: archiveDir };
    if (hasRealPostgres()) {
      db = await createTestDatabase('postgres');
      server = await startLocalServerProcess({ DATABASE_URL: db.url ?? '', ...files });
    } else {
      dataDir = await mkdtemp(path.join(tmpdir(), 'e2e-pglite-'));
      server = await startLocalServerProcess({ DATA_DIR: dataDir, ...files });
    }

    // The guide's scenarios, in order, each answered before the next is sent.
    for (const body of guideWebhooks) {
      const response = await postJson(`${server.url}/webhook`, body);
      expect(response.status).toBe(200);
    }
    const big = await postJson(
      `${server.url}/webhook`,
      metaWebhook(
        Array.from({ length: 1000 }, (_, i) =>
          metaStatus({ id: `wamid.bulk${i}`, status: i % 2 ? 'read' : 'delivered' }),
        ),
      ),
    );
    expect(big).toEqual({ status: 200, body: { accepted: 1000, rejected: [] } });
    const aisensy = await postJson(
      `${server.url}/webhook`,
      aisensyWebhook(aisensyMessage({ messageId: 'wamid.aisensy1', status: 'READ', read_at: 1729670400000 })),
    );
    expect(aisensy.body).toEqual({ accepted: 3, rejected: [] });

    await waitUntilDrained(server.url);
    health = await (await fetch(`${server.url}/health`)).json();
    let executor: SqlExecutor;
    if (db) {
      executor = db.executor;
      rows = await readRows(executor);
    } else {
      await server.stop();
      executor = await createPgliteExecutor(dataDir);
      rows = await readRows(executor);
      await executor.close();
    }
  }, LISTEN_DEADLINE_MS + 60_000);

  afterAll(async () => {
    await server?.stop();
    await db?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
    await rm(archiveDir, { recursive: true, force: true });
  });

  it('archives every webhook as sent under ARCHIVE_DIR, by UTC hour (docs/archive.md)', () => {
    const root = path.join(archiveDir, 'webhooks');
    const files = readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.jsonl'));
    for (const file of files)
      expect(file).toMatch(/^year=\d{4}\/month=\d{2}\/day=\d{2}\/hour=\d{2}\/local-\d+-\d+\.jsonl$/);
    const records = files.flatMap((f) =>
      readFileSync(path.join(root, f), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { format: string; body: string }),
    );
    expect(records.map((r) => r.format)).toEqual([...guideWebhooks.map(() => 'flat'), 'meta', 'aisensy']);
    expect(JSON.parse(records[0]!.body)).toEqual(guideWebhooks[0]);
  });

  const row = (id: string) => rows.find((r) => r.message_id === id);

  it('answers /health with the database it uses and an empty queue', () => {
    expect(health).toEqual({
      status: 'ok',
      database: db ? 'postgres' : 'pglite',
      queue: { visible: 0, inFlight: 0, deadLetters: 0 },
    });
  });

  it("writes one status-change event per change to STATUS_EVENTS_FILE, in EventBridge's envelope", async () => {
    type Event = { 'detail-type': string; detail: Record<string, unknown> };
    const read = async (): Promise<Event[]> =>
      (await readFile(eventsFile, 'utf8').catch(() => ''))
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Event);
    // The relay drains the outbox right after each batch, outside it: the last events may follow the rows by a moment.
    let events = await read();
    for (let i = 0; i < 100 && new Set(events.map((e) => e.detail.message_id)).size < rows.length; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      events = await read();
    }
    expect(new Set(events.map((e) => e['detail-type']))).toEqual(new Set(['WhatsApp Message Status Changed']));
    // Every stored message had at least one change, so at least one event.
    expect(new Set(events.map((e) => e.detail.message_id)).size).toBe(rows.length);
    // sent, delivered and read arrive as three webhooks; the local poller may apply two or all three of them in one
    // batch (one change, e.g. sent -> read, or nothing -> read: seen in CI), so the events form a chain from nothing
    // to read rather than exactly three links.
    const chain = events
      .filter((e) => e.detail.message_id === 'wamid.test123')
      .map((e) => [e.detail.previous_status, e.detail.status, e.detail.recipient]);
    expect(chain[0]?.[0]).toBeNull();
    expect(['sent', 'delivered', 'read']).toContain(chain[0]?.[1]);
    expect(chain.at(-1)?.[1]).toBe('read');
    for (const [i, link] of chain.entries()) {
      expect(link[2]).toBe('+12******90');
      if (i > 0) expect(link[0]).toBe(chain[i - 1]![1]);
    }
  });

  it('records sent, then delivered, then read', () => {
    expect(row('wamid.test123')).toMatchObject({
      phone_number: '+1234567890',
      status: {
        sent: '2024-01-01T10:00:00.000Z',
        delivered: '2024-01-01T10:00:05.000Z',
        read: '2024-01-01T10:01:00.000Z',
      },
      inferred_stages: [],
      current_status: 'read',
    });
  });

  it('records a read that arrived before its delivered, with the real delivered time', () => {
    expect(row('wamid.test456')).toMatchObject({
      status: {
        sent: '2024-01-01T10:01:30.000Z',
        delivered: '2024-01-01T10:01:30.000Z',
        read: '2024-01-01T10:01:40.000Z',
      },
      inferred_stages: ['sent'],
    });
  });

  it('records each message of the batch of three', () => {
    expect(['wamid.batch1', 'wamid.batch2', 'wamid.batch3'].map((id) => row(id)?.current_status)).toEqual([
      'sent',
      'delivered',
      'read',
    ]);
  });

  it('stores every status of the 1,000-status webhook', () => {
    const bulk = rows.filter((r) => r.message_id.startsWith('wamid.bulk'));
    expect(bulk).toHaveLength(1000);
    expect(bulk.filter((r) => r.current_status === 'read')).toHaveLength(500);
  });

  it('applies every stage time of an AiSensy notification and keeps its campaign', () => {
    expect(row('wamid.aisensy1')).toMatchObject({
      current_status: 'read',
      campaign: 'diwali_offer_2024',
      inferred_stages: [],
    });
  });
});
