import { NO_CREDENTIALS } from '../../lambdas/domain/webhook-auth';
import { SqlTrackerStore } from '../../lambdas/store/sql-tracker-store';
import { type LocalPipeline, startLocalPipeline } from '../../local/local-pipeline';
import { chunk } from '../../testkit/lists';
import { postJson } from '../../testkit/local-server-process';
import { createTestDatabase, hasRealPostgres, type TestDatabase } from '../support/databases';
import { shuffled } from '../support/generators';
import { readRows } from '../support/status-rows';

const describeOnRealPostgres = hasRealPostgres() ? describe : describe.skip;
const STAGES = ['sent', 'delivered', 'read', 'failed', 'played'] as const;

/** 1,500 flat-format statuses over 100 messages: many stages, duplicates and orders per message. */
function workload() {
  return Array.from({ length: 1500 }, (_, i) => ({
    id: `wamid.pc${i % 100}`,
    status: STAGES[(i * 3 + Math.floor(i / 100)) % STAGES.length],
    timestamp: String(1704103200 + ((i * 17) % 300)),
    recipient_id: `1555000${i % 100}`,
    ...(i % 5 === 3 ? { errors: [{ code: 131026 + (i % 2), title: 'undeliverable' }] } : {}),
  }));
}

describeOnRealPostgres('the whole local pipeline with 4 concurrent processor workers', () => {
  let pipelineDb: TestDatabase;
  let referenceDb: TestDatabase;
  let pipeline: LocalPipeline;

  beforeAll(async () => {
    pipelineDb = await createTestDatabase('postgres');
    referenceDb = await createTestDatabase('postgres');
    pipeline = await startLocalPipeline({
      port: 0,
      databaseUrl: pipelineDb.url,
      dataDir: 'memory',
      maxBodyBytes: 1_048_576,
      credentials: NO_CREDENTIALS,
      allowedSourceCidrs: [],
      visibilityTimeoutMs: 2_000,
      maxReceiveCount: 5,
      batchSize: 2,
      concurrency: 4,
    });
  });
  afterAll(async () => {
    await pipeline.close();
    await pipelineDb.drop();
    await referenceDb.drop();
  });

  it('ends with the rows of one sequential application: no lost update', async () => {
    const statuses = workload();
    // Webhooks of 10 shuffled statuses, 8 in flight at a time, each sent twice (providers retry).
    const webhooks = chunk(shuffled([...statuses, ...statuses], 7), 10).map((items) => ({ statuses: items }));
    for (const group of chunk(webhooks, 8)) {
      const answers = await Promise.all(group.map((body) => postJson(`${pipeline.url}/webhook`, body)));
      for (const answer of answers) expect(answer.status).toBe(200);
    }
    await pipeline.poller.drained(60_000);

    // The reference: the same statuses, normalized the same way, applied in one sequential call.
    const { normalizeWebhook } = await import('../../lambdas/domain/normalize-webhook');
    await new SqlTrackerStore(referenceDb.executor).applyStatusUpdates(normalizeWebhook({ statuses }).updates);
    const expected = await readRows(referenceDb.executor);
    expect(expected).toHaveLength(100);
    expect(await readRows(pipelineDb.executor)).toEqual(expected);
    expect(pipeline.queue.stats().deadLetters).toBe(0);
  }, 120_000);
});
