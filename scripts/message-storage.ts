/**
 * What a message row costs in PostgreSQL storage, and how fast retention deletes (docs/retention.md): generates N
 * messages shaped like real traffic through apply_status_updates on a scratch database (sent and delivered, most
 * read, some failed; phone, user id for some, campaign, sender, pricing and conversation JSON as Meta sends them),
 * then measures the table with its indexes and TOAST, and deletes it all again in retention's batches.
 *
 *   npm run db:storage -- [--messages 100000]     (PostgreSQL from TEST_DATABASE_URL or DATABASE_URL: a role that
 *                                                  may create databases; the scratch database is dropped after)
 */
import { performance } from 'node:perf_hooks';
import { createScratchDatabase } from '../db/scratch-database';
import { MIN_RETENTION_DAYS, RETENTION_DEFAULTS } from '../lambdas/domain/retention';
import type { StatusUpdate } from '../lambdas/domain/status-update';
import { parseCli, UsageError } from '../lambdas/shared/cli';
import { SqlTrackerStore } from '../lambdas/store/sql-tracker-store';

export interface MessageStorage {
  messages: number;
  tableBytes: number;
  indexBytes: number;
  toastBytes: number;
  totalBytes: number;
  bytesPerMessage: number;
  gbPerMillionMessages: number;
  /** At 1M messages a day, kept for a year. */
  gbPerYearAt1mPerDay: number;
  /**
   * The same after VACUUM FULL: the rows alone. The figures above are the table as the pipeline leaves it (each
   * status updates the row, and vacuum frees the old versions for reuse without returning the space): what a
   * database under steady traffic holds.
   */
  compactBytesPerMessage: number;
  deleteBatchSize: number;
  deleteMsPerBatch: number;
  deletedPerSecond: number;
}

const GB = 1024 ** 3;

function messageUpdates(i: number, startMs: number): StatusUpdate[] {
  const message_id = `wamid.HBgMOTE5ODc2NTQzMjEwFQIAERgSQzk${String(i).padStart(12, '0')}A`;
  const sent = startMs + i * 600; // 100k messages over ~17 hours
  const common = {
    message_id,
    phone_number: `+9198${String(10_000_000 + (i % 90_000_000)).padStart(8, '0')}`,
    ...(i % 10 === 0 ? { recipient_user_id: `IN.${String(1_000_000_000_000 + i)}` } : {}),
    sender_waba_id: '102290129340398',
    sender_phone_number_id: i % 3 === 0 ? '106540352242922' : '201111111111111',
    sender_display_phone_number: i % 3 === 0 ? '15550783881' : '15550783882',
    campaign: `diwali_offer_${i % 20}`,
  };
  const pricing = { billable: true, pricing_model: 'PMP', category: 'marketing', type: 'regular' };
  const conversation = { id: `c${(i * 7919) % 1_000_000_007}`, origin: { type: 'marketing' } };
  const at = (ms: number) => new Date(ms).toISOString();
  const updates: StatusUpdate[] = [{ ...common, status: 'sent', timestamp: at(sent), pricing, conversation }];
  if (i % 20 === 0) {
    updates.push({
      ...common,
      status: 'failed',
      timestamp: at(sent + 3_000),
      error: { code: 131026, title: 'Message undeliverable', message: 'Message undeliverable' },
    });
    return updates;
  }
  updates.push({ ...common, status: 'delivered', timestamp: at(sent + 2_000), pricing, conversation });
  if (i % 5 < 3) updates.push({ ...common, status: 'read', timestamp: at(sent + 600_000) });
  return updates;
}

export async function measureMessageStorage(adminUrl: string, messages: number): Promise<MessageStorage> {
  const db = await createScratchDatabase(adminUrl);
  try {
    const store = new SqlTrackerStore(db.executor);
    const start = Date.parse('2026-01-01T00:00:00.000Z');
    // One status per call-batch at a time, as the processor applies them: sent, then delivered, then read.
    for (let from = 0; from < messages; from += 1_000) {
      const batch = Array.from({ length: Math.min(1_000, messages - from) }, (_, k) => messageUpdates(from + k, start));
      for (const stage of [0, 1, 2]) {
        const updates = batch.flatMap((u) => (u[stage] ? [u[stage]] : []));
        if (updates.length) await store.applyStatusUpdates(updates);
      }
    }
    await db.executor.exec('vacuum analyze public.broadcasts_messages');
    const { rows } = await db.executor.query<Record<string, string>>(
      `select count(*) as messages,
              pg_relation_size('public.broadcasts_messages') as table_bytes,
              pg_indexes_size('public.broadcasts_messages') as index_bytes,
              coalesce(pg_total_relation_size(nullif(c.reltoastrelid, 0)), 0) as toast_bytes,
              pg_total_relation_size('public.broadcasts_messages') as total_bytes
         from public.broadcasts_messages, pg_class c
        where c.oid = 'public.broadcasts_messages'::regclass
        group by c.reltoastrelid`,
    );
    const r = rows[0]!;
    const count = Number(r.messages);
    const total = Number(r.total_bytes);
    const perMessage = total / count;

    await db.executor.exec('vacuum full public.broadcasts_messages');
    const { rows: compact } = await db.executor.query<{ bytes: string }>(
      `select pg_total_relation_size('public.broadcasts_messages') as bytes`,
    );

    const { batchSize } = RETENTION_DEFAULTS;
    // Every generated message (all sent in January 2026) is older than the nearest cutoff the database accepts.
    const olderThan = new Date(Date.now() - MIN_RETENTION_DAYS * 86_400_000);
    let batches = 0;
    const began = performance.now();
    while ((await store.deleteExpiredMessages(olderThan, batchSize)) > 0) batches += 1;
    const ms = performance.now() - began;
    const { rows: left } = await db.executor.query<{ n: number }>(
      'select count(*)::int as n from public.broadcasts_messages',
    );
    if (left[0]!.n > 0) throw new Error(`retention left ${left[0]!.n} of ${count} messages: the rate would be wrong`);
    return {
      messages: count,
      tableBytes: Number(r.table_bytes),
      indexBytes: Number(r.index_bytes),
      toastBytes: Number(r.toast_bytes),
      totalBytes: total,
      bytesPerMessage: Math.round(perMessage),
      gbPerMillionMessages: Math.round((perMessage * 1e6 * 100) / GB) / 100,
      gbPerYearAt1mPerDay: Math.round((perMessage * 1e6 * 365) / GB),
      compactBytesPerMessage: Math.round(Number(compact[0]!.bytes) / count),
      deleteBatchSize: batchSize,
      deleteMsPerBatch: Math.round((ms / Math.max(batches, 1)) * 10) / 10,
      deletedPerSecond: Math.round((count / ms) * 1000),
    };
  } finally {
    await db.drop();
  }
}

if (require.main === module) {
  const { messages } = parseCli(
    {
      name: 'db:storage',
      usage: 'npm run db:storage -- [--messages N] (PostgreSQL: TEST_DATABASE_URL or DATABASE_URL)',
      options: { messages: { type: 'string', default: '100000' } },
    },
    process.argv.slice(2),
    ({ values }) => {
      const n = Number(values.messages);
      if (!Number.isInteger(n) || n < 1_000 || n > 10_000_000)
        throw new UsageError('--messages expects a whole number from 1000 to 10000000');
      return { messages: n };
    },
  );
  const adminUrl = process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;
  if (!adminUrl) {
    process.stderr.write('db:storage: set TEST_DATABASE_URL or DATABASE_URL to a PostgreSQL server\n');
    process.exit(2);
  }
  measureMessageStorage(adminUrl, messages).then(
    (m) => process.stdout.write(`${JSON.stringify(m, null, 2)}\n`),
    (error: unknown) => {
      process.stderr.write(`db:storage: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
