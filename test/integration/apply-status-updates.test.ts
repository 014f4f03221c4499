import { SqlTrackerStore } from '../../lambdas/store/sql-tracker-store';
import { availableEngines, createTestDatabase, type TestDatabase } from '../support/databases';
import { at, readRow, readRows, update } from '../support/status-rows';

describe.each(availableEngines())('apply_status_updates on %s', (engine) => {
  let db: TestDatabase;
  let store: SqlTrackerStore;

  beforeAll(async () => {
    db = await createTestDatabase(engine);
    store = new SqlTrackerStore(db.executor);
  });
  afterAll(() => db.drop());
  beforeEach(() => db.executor.exec('truncate public.broadcasts_messages'));

  it('records sent, then delivered, then read with nothing inferred', async () => {
    await store.applyStatusUpdates([update('m1', 'sent', 0, { phone_number: '+919876543210' })]);
    await store.applyStatusUpdates([update('m1', 'delivered', 2)]);
    await store.applyStatusUpdates([update('m1', 'read', 30)]);

    expect(await readRow(db.executor, 'm1')).toMatchObject({
      phone_number: '+919876543210',
      status: { sent: at(0), delivered: at(2), read: at(30) },
      inferred_stages: [],
      current_status: 'read',
    });
  });

  it('infers delivered from read, then replaces it with the real, earlier delivered', async () => {
    await store.applyStatusUpdates([update('m1', 'read', 30)]);
    expect(await readRow(db.executor, 'm1')).toMatchObject({
      status: { sent: at(30), delivered: at(30), read: at(30) },
      inferred_stages: ['sent', 'delivered'],
    });

    await store.applyStatusUpdates([update('m1', 'delivered', 2)]);
    expect(await readRow(db.executor, 'm1')).toMatchObject({
      status: { sent: at(2), delivered: at(2), read: at(30) },
      inferred_stages: ['sent'],
    });
  });

  it('lets played imply read, delivered and sent', async () => {
    await store.applyStatusUpdates([update('m1', 'played', 50)]);
    expect(await readRow(db.executor, 'm1')).toMatchObject({
      status: { sent: at(50), delivered: at(50), read: at(50), played: at(50) },
      inferred_stages: ['sent', 'delivered', 'read'],
      current_status: 'played',
    });
  });

  it('keeps the earliest time of a stage whatever the arrival order, and reports a duplicate as no change', async () => {
    await store.applyStatusUpdates([update('m1', 'sent', 5)]);
    const earlier = await store.applyStatusUpdates([update('m1', 'sent', 3)]);
    const later = await store.applyStatusUpdates([update('m1', 'sent', 9)]);
    const duplicate = await store.applyStatusUpdates([update('m1', 'sent', 3)]);

    expect(earlier).toEqual([
      expect.objectContaining({
        message_id: 'm1',
        inserted: false,
        previous_status: { sent: at(5) },
        status: { sent: at(3) },
      }),
    ]);
    expect(later).toEqual([]);
    expect(duplicate).toEqual([]);
    expect((await readRow(db.executor, 'm1'))?.status).toEqual({ sent: at(3) });
  });

  it('moves updated_at only when something changed', async () => {
    await store.applyStatusUpdates([update('m1', 'sent', 0)]);
    const stamp = async () =>
      (
        await db.executor.query<{ u: string }>(
          `select updated_at::text as u from broadcasts_messages where message_id = 'm1'`,
        )
      ).rows[0]?.u;
    const first = await stamp();
    await new Promise((r) => setTimeout(r, 20));
    await store.applyStatusUpdates([update('m1', 'sent', 0), update('m1', 'sent', 7)]);
    expect(await stamp()).toBe(first);
    await store.applyStatusUpdates([update('m1', 'delivered', 1)]);
    expect(await stamp()).not.toBe(first);
  });

  it('keeps a failure and its error; a late sent does not clear it', async () => {
    const error = { code: 131026, title: 'Message undeliverable' };
    await store.applyStatusUpdates([update('m1', 'failed', 4, { error })]);
    await store.applyStatusUpdates([update('m1', 'sent', 1)]);
    expect(await readRow(db.executor, 'm1')).toMatchObject({
      status: { sent: at(1), failed: at(4) },
      current_status: 'failed',
      failure: error,
      error_code: 131026,
    });
  });

  it('shows delivered as the current status of a message both delivered and failed, keeping the failure', async () => {
    await store.applyStatusUpdates([
      update('m1', 'delivered', 2),
      update('m1', 'failed', 4, { error: { code: 131049 } }),
    ]);
    expect(await readRow(db.executor, 'm1')).toMatchObject({
      status: { sent: at(2), delivered: at(2), failed: at(4) },
      current_status: 'delivered',
      error_code: 131049,
    });
  });

  it('keeps the earliest failure of several, whatever the order', async () => {
    await store.applyStatusUpdates([update('m1', 'failed', 9, { error: { code: 2 } })]);
    await store.applyStatusUpdates([update('m1', 'failed', 4, { error: { code: 1 } })]);
    await store.applyStatusUpdates([update('m2', 'failed', 4, { error: { code: 1 } })]);
    await store.applyStatusUpdates([update('m2', 'failed', 9, { error: { code: 2 } })]);
    const rows = await readRows(db.executor);
    expect(rows.map((r) => [r.message_id, r.error_code, r.status.failed])).toEqual([
      ['m1', 1, at(4)],
      ['m2', 1, at(4)],
    ]);
  });

  it('folds several updates of one message in one batch (no "row touched twice" error)', async () => {
    const changes = await store.applyStatusUpdates([
      update('m1', 'read', 30),
      update('m1', 'sent', 0),
      update('m1', 'read', 31),
      update('m1', 'delivered', 2),
      update('m2', 'sent', 1),
    ]);
    expect(changes.map((c) => [c.message_id, c.inserted])).toEqual([
      ['m1', true],
      ['m2', true],
    ]);
    expect((await readRow(db.executor, 'm1'))?.status).toEqual({ sent: at(0), delivered: at(2), read: at(30) });
  });

  it('treats a reported delivered later than read (clock skew) as inferred from read', async () => {
    await store.applyStatusUpdates([update('m1', 'read', 10), update('m1', 'delivered', 12)]);
    expect(await readRow(db.executor, 'm1')).toMatchObject({
      status: { sent: at(10), delivered: at(10), read: at(10) },
      inferred_stages: ['sent', 'delivered'],
    });
  });

  it('keeps campaign, provider id, conversation and pricing', async () => {
    await store.applyStatusUpdates([
      update('m1', 'sent', 0, {
        campaign: 'diwali',
        provider_message_id: 'ais-1',
        conversation: { id: 'c1' },
        pricing: { billable: true, category: 'marketing' },
      }),
    ]);
    expect(await readRow(db.executor, 'm1')).toMatchObject({
      campaign: 'diwali',
      provider_message_id: 'ais-1',
      conversation: { id: 'c1' },
      pricing: { billable: true, category: 'marketing' },
    });
  });

  it('joins the phone of one status and the user id of another into one recipient, in either order', async () => {
    const sent = update('m1', 'sent', 0, { phone_number: '+919876543210', sender_phone_number_id: '1061' });
    const read = update('m1', 'read', 5, {
      recipient_user_id: 'IN.1648738043044942',
      recipient_parent_user_id: 'IN.ENT.118157992128',
      sender_waba_id: '1022',
      sender_display_phone_number: '+15550783881',
    });
    await store.applyStatusUpdates([sent]);
    await store.applyStatusUpdates([read]);
    const forwards = await readRow(db.executor, 'm1');
    await db.executor.exec('truncate public.broadcasts_messages');
    await store.applyStatusUpdates([read]);
    await store.applyStatusUpdates([sent]);
    const backwards = await readRow(db.executor, 'm1');
    expect(forwards).toMatchObject({
      phone_number: '+919876543210',
      recipient_user_id: 'IN.1648738043044942',
      recipient_parent_user_id: 'IN.ENT.118157992128',
      sender_waba_id: '1022',
      sender_phone_number_id: '1061',
      sender_display_phone_number: '+15550783881',
    });
    expect(backwards).toEqual(forwards);
  });

  it('records a message that has only a user id, and the AiSensy project that sent it', async () => {
    const changes = await store.applyStatusUpdates([
      update('m1', 'delivered', 0, { recipient_user_id: 'BR.1502576394655843', sender_project_id: 'p1' }),
    ]);
    expect(changes).toHaveLength(1);
    expect(await readRow(db.executor, 'm1')).toMatchObject({
      phone_number: null,
      recipient_user_id: 'BR.1502576394655843',
      sender_project_id: 'p1',
    });
    // A repeat, or the same status with the sender missing, changes nothing.
    expect(
      await store.applyStatusUpdates([update('m1', 'delivered', 0, { recipient_user_id: 'BR.1502576394655843' })]),
    ).toHaveLength(0);
  });

  it('refuses a batch with an invalid status as a whole, writing nothing', async () => {
    const bad = [update('m1', 'sent', 0), { ...update('m2', 'sent', 0), status: 'bogus' }] as never;
    await expect(store.applyStatusUpdates(bad)).rejects.toThrow(/update 1 is invalid/);
    expect(await readRows(db.executor)).toEqual([]);
  });

  it('refuses a batch with an unparseable timestamp, writing nothing', async () => {
    const bad = [update('m1', 'sent', 0), { ...update('m2', 'sent', 0), timestamp: 'not a time' }];
    await expect(store.applyStatusUpdates(bad)).rejects.toThrow();
    expect(await readRows(db.executor)).toEqual([]);
  });

  it("keeps the original guide's analytics SQL working on the status JSONB", async () => {
    await store.applyStatusUpdates([
      update('m1', 'sent', 0),
      update('m1', 'delivered', 4),
      update('m2', 'sent', 0),
      update('m2', 'read', 10),
      update('m3', 'sent', 0),
    ]);
    const { rows } = await db.executor.query<{ total: number; delivered: number; read: number; avg_delivery: string }>(
      `select count(*)::int as total,
              count(*) filter (where status ? 'delivered')::int as delivered,
              count(*) filter (where status ? 'read')::int as read,
              avg(extract(epoch from ((status->>'delivered')::timestamptz - (status->>'sent')::timestamptz)))::text as avg_delivery
         from broadcasts_messages`,
    );
    // m2's delivered is inferred from its read, 10 s after sent: (4 + 10) / 2 = 7.
    expect(rows[0]).toMatchObject({ total: 3, delivered: 2, read: 1 });
    expect(Number(rows[0]?.avg_delivery)).toBe(7);
  });
});
