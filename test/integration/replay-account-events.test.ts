import { Readable } from 'node:stream';
import { archiveLines, archivePartition } from '../../lambdas/domain/archive-record';
import { normalizeWebhook } from '../../lambdas/domain/normalize-webhook';
import type { StatusTimeWindow } from '../../lambdas/domain/timestamps';
import { SqlTrackerStore } from '../../lambdas/store/sql-tracker-store';
import { metaStatus, metaWebhook } from '../../testkit/webhooks';
import { type ArchiveSource, formatSummary, type ReplayOptions, replayArchive } from '../../tools/replay-archive';
import {
  accountWebhook,
  NUMBER_DOWNGRADED,
  NUMBER_FLAGGED,
  TEMPLATE_DISABLED,
  TEMPLATE_PAUSED,
} from '../fixtures/account-webhooks';
import { createTestDatabase, hasRealPostgres, type TestDatabase } from '../support/databases';

const WINDOW: StatusTimeWindow = { maxPastMs: 30 * 86_400_000, maxFutureMs: 300_000 };
/** The fixtures' entry time (Meta's example, 2025-05-28T17:46:34Z); the webhooks arrived a minute later. */
const RECEIVED_MS = 1748454394_000 + 60_000;

/** Meta's account webhooks beside a status webhook, as the archive holds them; a provider retry sends one twice. */
const WEBHOOKS: unknown[] = [
  accountWebhook('phone_number_quality_update', NUMBER_FLAGGED),
  accountWebhook('phone_number_quality_update', NUMBER_DOWNGRADED, 1748454400),
  accountWebhook('message_template_status_update', TEMPLATE_PAUSED, 1748455200),
  accountWebhook('message_template_status_update', TEMPLATE_DISABLED, 1748454180),
  accountWebhook('message_template_status_update', TEMPLATE_DISABLED, 1748454180), // Meta's retry: the same change
  metaWebhook([
    metaStatus({ id: 'wamid.replayed1', status: 'sent', timestamp: '1748454300', recipient_id: '919876543210' }),
  ]),
];

/** An archive of one file in memory, in the layout replay reads. */
function memoryArchive(webhooks: readonly unknown[]): ArchiveSource {
  const partition = archivePartition(RECEIVED_MS);
  const text = webhooks
    .flatMap((webhook, i) =>
      archiveLines({
        id: `w${i}`,
        receivedAtMs: RECEIVED_MS + i,
        format: 'meta',
        body: Buffer.from(JSON.stringify(webhook)),
      }),
    )
    .join('');
  return {
    describe: 'memory',
    list: async (p) => (p === partition ? [`${partition}file-1`] : []),
    open: async () => Readable.from([Buffer.from(text)]),
  };
}

// Real PostgreSQL only, like the archive replay suite: a fresh PGlite database per test would take 10-40 s here.
(hasRealPostgres() ? describe : describe.skip)('replaying account and template events (real PostgreSQL)', () => {
  let db: TestDatabase;
  let store: SqlTrackerStore;
  const options = (): ReplayOptions => ({
    source: memoryArchive(WEBHOOKS),
    fromMs: RECEIVED_MS - 3_600_000,
    toMs: RECEIVED_MS + 3_600_000,
    window: WINDOW,
    maxStatusesPerWebhook: 5_000,
    store,
  });
  const stored = async () =>
    (
      await db.executor.query<{ field: string; event: string }>(
        'select field, event from public.account_events order by occurred_at, id',
      )
    ).rows.map((r) => `${r.field} ${r.event}`);

  beforeEach(async () => {
    db = await createTestDatabase('postgres');
    store = new SqlTrackerStore(db.executor);
  });
  afterEach(() => db.drop());

  it('records the events once: a second replay adds nothing, and the summary says how many were new', async () => {
    const first = await replayArchive(options());
    expect(first).toMatchObject({ accountEvents: 5, accountEventsRecorded: 4, statuses: 1, rowsInserted: 1 });
    expect(await stored()).toEqual([
      'message_template_status_update DISABLED',
      'phone_number_quality_update FLAGGED',
      'phone_number_quality_update DOWNGRADE',
      'message_template_status_update PAUSED',
    ]);
    expect(formatSummary(first, false)).toContain(
      'account and template events: 5 found, 4 recorded, 1 already stored, 0 unstorable (none notified)',
    );

    const second = await replayArchive(options());
    expect(second).toMatchObject({ accountEvents: 5, accountEventsRecorded: 0 });
    expect(await stored()).toHaveLength(4);
    expect(formatSummary(second, false)).toContain('5 found, 0 recorded, 5 already stored');
  });

  it('adds nothing over the events the processor recorded live from the same webhooks', async () => {
    for (const [i, webhook] of WEBHOOKS.entries()) {
      const { accountEvents } = normalizeWebhook(webhook, {
        receipt: { receivedAtMs: RECEIVED_MS + i, window: WINDOW },
      });
      await store.recordAccountEvents(accountEvents);
    }
    expect(await stored()).toHaveLength(4);
    expect(await replayArchive(options())).toMatchObject({ accountEvents: 5, accountEventsRecorded: 0 });
    expect(await stored()).toHaveLength(4);
  });

  it('records nothing on a dry run', async () => {
    const summary = await replayArchive({ ...options(), store: undefined });
    expect(summary).toMatchObject({ accountEvents: 5, accountEventsRecorded: 0 });
    expect(await stored()).toEqual([]);
    expect(formatSummary(summary, true)).toContain('account and template events found: 5 (dry run: nothing recorded)');
  });

  it('keeps the current state derivable after a replay into an empty table: the templates disabled and paused', async () => {
    await replayArchive(options());
    const { rows: templates } = await db.executor.query<{ template: string; status: string }>(
      'select template, status from public.template_health order by template',
    );
    expect(templates).toEqual([
      { template: 'order_confirmation (en-US)', status: 'DISABLED' },
      { template: 'testing_template (en)', status: 'PAUSED' },
    ]);
  });
});
