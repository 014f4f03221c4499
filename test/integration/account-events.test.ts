import { normalizeWebhook } from '../../lambdas/domain/normalize-webhook';
import { SqlTrackerStore } from '../../lambdas/store/sql-tracker-store';
import { SupabaseTrackerStore } from '../../lambdas/store/supabase-tracker-store';
import {
  accountWebhook,
  NUMBER_DOWNGRADED,
  NUMBER_FLAGGED,
  TEMPLATE_APPROVED,
  TEMPLATE_DISABLED,
  TEMPLATE_PAUSED,
  TEMPLATE_QUALITY_RED,
} from '../fixtures/account-webhooks';
import { availableEngines, createTestDatabase, type TestDatabase } from '../support/databases';
import { startPostgrestRpcServer } from '../support/postgrest-rpc-server';

/** The events of one webhook with one change, at `time` (Unix seconds). */
const eventsOf = (field: string, value: unknown, time: number) =>
  normalizeWebhook(accountWebhook(field, value, time)).accountEvents;

describe.each(availableEngines())('account_events on %s', (engine) => {
  let db: TestDatabase;
  let store: SqlTrackerStore;
  beforeAll(async () => {
    db = await createTestDatabase(engine);
    store = new SqlTrackerStore(db.executor);
  });
  afterAll(() => db.drop());
  beforeEach(() => db.executor.exec('truncate public.account_events'));

  it('records each change once, however often Meta sends it, and returns only the new ones', async () => {
    const flagged = eventsOf('phone_number_quality_update', NUMBER_FLAGGED, 1_748_000_000);
    const first = await store.recordAccountEvents([...flagged, ...flagged]);
    expect(first).toEqual(flagged);
    expect(await store.recordAccountEvents(flagged)).toEqual([]);
    const { rows } = await db.executor.query<{ n: number }>('select count(*)::int as n from public.account_events');
    expect(rows).toEqual([{ n: 1 }]);
  });

  it('derives the current state of each number and template from the log, whatever the arrival order', async () => {
    const events = [
      ...eventsOf('phone_number_quality_update', NUMBER_FLAGGED, 1_748_000_000),
      ...eventsOf('phone_number_quality_update', NUMBER_DOWNGRADED, 1_748_000_100),
      ...eventsOf('message_template_status_update', TEMPLATE_APPROVED, 1_748_000_000),
      ...eventsOf('message_template_status_update', TEMPLATE_DISABLED, 1_748_000_300),
      ...eventsOf('message_template_quality_update', TEMPLATE_QUALITY_RED, 1_748_000_200),
      ...eventsOf('message_template_status_update', TEMPLATE_PAUSED, 1_748_000_050),
    ];
    // Later events first: the views read times, not arrival.
    for (const event of [...events].reverse()) await store.recordAccountEvents([event]);

    const { rows: numbers } = await db.executor.query(
      `select phone_number, quality_event, messaging_limit, last_event, last_severity from public.phone_number_health`,
    );
    expect(numbers).toEqual([
      {
        phone_number: '+15550783881',
        quality_event: 'FLAGGED',
        messaging_limit: 'TIER_2K',
        last_event: 'DOWNGRADE',
        last_severity: 'warning',
      },
    ]);
    const { rows: templates } = await db.executor.query(
      `select template_id, template, status, quality from public.template_health order by template_id`,
    );
    expect(templates).toEqual([
      { template_id: '1054512345678901', template: 'testing_template (en)', status: 'PAUSED', quality: null },
      { template_id: '1689556908129832', template: 'order_confirmation (en-US)', status: 'DISABLED', quality: 'RED' },
    ]);
  });

  it('refuses an invalid event as a whole batch (SQLSTATE 22023), writing nothing', async () => {
    const [good] = eventsOf('message_template_status_update', TEMPLATE_PAUSED, 1_748_000_000);
    const bad = { ...good!, severity: 'catastrophic' } as never;
    await expect(store.recordAccountEvents([good!, bad])).rejects.toMatchObject({ code: '22023' });
    const { rows } = await db.executor.query<{ n: number }>('select count(*)::int as n from public.account_events');
    expect(rows).toEqual([{ n: 0 }]);
  });

  it('works through PostgREST as the deployed processor calls it', async () => {
    const rest = await startPostgrestRpcServer(db.executor, 'key');
    const supabase = new SupabaseTrackerStore({ url: rest.url, serviceRoleKey: 'key' });
    try {
      const disabled = eventsOf('message_template_status_update', TEMPLATE_DISABLED, 1_748_000_300);
      expect(await supabase.recordAccountEvents(disabled)).toEqual(disabled);
      expect(await supabase.recordAccountEvents(disabled)).toEqual([]);
    } finally {
      await supabase.close();
      await rest.close();
    }
  });
});
