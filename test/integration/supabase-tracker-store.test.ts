import { StoreError, SupabaseTrackerStore } from '../../lambdas/store/supabase-tracker-store';
import { availableEngines, createTestDatabase, type TestDatabase } from '../support/databases';
import { type PostgrestRpcServer, startPostgrestRpcServer } from '../support/postgrest-rpc-server';
import { at, readRow, update } from '../support/status-rows';

const SERVICE_ROLE_KEY = 'test-service-role-key';

describe.each(availableEngines())('SupabaseTrackerStore over PostgREST RPC on %s', (engine) => {
  let db: TestDatabase;
  let rest: PostgrestRpcServer;
  let store: SupabaseTrackerStore;

  beforeAll(async () => {
    db = await createTestDatabase(engine);
    rest = await startPostgrestRpcServer(db.executor, SERVICE_ROLE_KEY);
    store = new SupabaseTrackerStore({ url: rest.url, serviceRoleKey: SERVICE_ROLE_KEY });
  });
  afterAll(async () => {
    await store.close();
    await rest.close();
    await db.drop();
  });

  it('applies a batch through rpc("apply_status_updates") with the service-role key', async () => {
    const changes = await store.applyStatusUpdates([
      update('m1', 'sent', 0),
      update('m1', 'read', 9, { phone_number: '+15551234567' }),
    ]);

    expect(changes).toEqual([
      {
        message_id: 'm1',
        inserted: true,
        previous_status: null,
        status: { sent: at(0), delivered: at(9), read: at(9) },
        inferred_stages: ['delivered'],
      },
    ]);
    expect(await readRow(db.executor, 'm1')).toMatchObject({ phone_number: '+15551234567', current_status: 'read' });
    expect(rest.requests.at(-1)).toEqual({
      path: '/rest/v1/rpc/apply_status_updates',
      apikey: SERVICE_ROLE_KEY,
      authorization: `Bearer ${SERVICE_ROLE_KEY}`,
    });
  });

  it('writes status-change events to the outbox, claims and acknowledges them, all through rpc', async () => {
    const changes = await store.applyStatusUpdatesWithEvents([
      update('m2', 'failed', 3, {
        phone_number: '+15551234567',
        campaign: 'launch',
        error: { code: 131026, title: 'Message undeliverable' },
      }),
    ]);
    expect(changes).toEqual([
      { message_id: 'm2', inserted: true, previous_status: null, status: { failed: at(3) }, inferred_stages: [] },
    ]);
    expect(rest.requests.at(-1)?.path).toBe('/rest/v1/rpc/apply_status_updates_with_events');
    // Applied again: nothing changed, nothing returned.
    expect(await store.applyStatusUpdatesWithEvents([update('m2', 'failed', 3)])).toEqual([]);

    const claimed = await store.claimStatusEvents(10, 60);
    expect(claimed).toEqual([
      {
        id: expect.any(Number),
        message_id: 'm2',
        inserted: true,
        previous_status: null,
        status: { failed: at(3) },
        inferred_stages: [],
        applied_at: expect.any(Date),
        attempts: 1,
        campaign: 'launch',
        error_code: 131026,
        error_title: 'Message undeliverable',
        phone_number: '+15551234567',
        recipient_user_id: null,
      },
    ]);
    expect(await store.ackStatusEvents(claimed.map((c) => c.id))).toBe(1);
    expect(rest.requests.at(-1)?.path).toBe('/rest/v1/rpc/ack_status_events');
    expect(await store.claimStatusEvents(10, 0)).toEqual([]);
  });

  it("throws a StoreError with the database's code when the function refuses the batch", async () => {
    const bad = [{ ...update('m2', 'sent', 0), status: 'bogus' }] as never;
    const error = await store.applyStatusUpdates(bad).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ code: '22023', message: expect.stringMatching(/update 0 is invalid/) });
  });

  it('throws when the key is wrong, writing nothing', async () => {
    const intruder = new SupabaseTrackerStore({ url: rest.url, serviceRoleKey: 'wrong' });
    await expect(intruder.applyStatusUpdates([update('m3', 'sent', 0)])).rejects.toThrow(StoreError);
    await intruder.close();
    expect(await readRow(db.executor, 'm3')).toBeUndefined();
  });

  it('throws when Supabase cannot be reached', async () => {
    const unreachable = new SupabaseTrackerStore({ url: 'http://127.0.0.1:9', serviceRoleKey: SERVICE_ROLE_KEY });
    await expect(unreachable.applyStatusUpdates([update('m4', 'sent', 0)])).rejects.toThrow();
    await unreachable.close();
  });
});
