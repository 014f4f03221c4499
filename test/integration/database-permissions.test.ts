import { Client } from 'pg';
import { availableEngines, createTestDatabase, type TestDatabase } from '../support/databases';
import { SUPABASE_API_ROLES, type SupabaseApiRole } from '../support/supabase-roles';

/**
 * Supabase serves every table and function of schema `public` over its REST API, to whoever holds the public
 * (anon) key or a user's token (authenticated), as far as the grants allow; and it grants everything new in
 * `public` to those roles by default. The test databases have those roles and default privileges before the
 * migrations run (test/support/supabase-roles.ts), so these read what a real project would end up with.
 */
const OUTSIDERS = ['anon', 'authenticated'] as const;

/** The functions the stack calls, with arguments that make each one run (not just resolve). */
const STACK_CALLS: [name: string, sql: string][] = [
  [
    'apply_status_updates',
    `select * from public.apply_status_updates('[{"message_id":"wamid.perm","status":"read","timestamp":"2024-01-01T10:00:00.000Z","phone_number":"+919876543210"}]'::jsonb)`,
  ],
  // Status-change events (docs/events.md): the processor writes the outbox, the relay claims and acknowledges.
  [
    'apply_status_updates_with_events',
    `select * from public.apply_status_updates_with_events('[{"message_id":"wamid.outbox","status":"sent","timestamp":"2024-01-01T10:00:00.000Z"}]'::jsonb)`,
  ],
  ['claim_status_events', 'select * from public.claim_status_events(10, 0)'],
  ['ack_status_events', 'select public.ack_status_events(array[]::bigint[])'],
  ['delivery_health', `select * from public.delivery_health('2024-01-01T12:00:00Z', 30, 5, 24, 180, 10, 60)`],
  [
    'delivery_health_by_sender',
    `select * from public.delivery_health_by_sender('2024-01-01T12:00:00Z', 30, 5, 24, 180, 10, 60, '{106540352242922}')`,
  ],
  // The sweeper's rollup upkeep (docs/design.md#rollups).
  ['compact_rollups', 'select public.compact_rollups()'],
  ['delete_expired_messages', `select public.delete_expired_messages('2000-01-01', 10)`],
  ['expired_messages_remaining', `select public.expired_messages_remaining('2000-01-01', 10)`],
  ['delivery_summary', `select * from public.delivery_summary('2024-01-01', '2024-01-02')`],
  ['delivery_report', `select * from public.delivery_report('2024-01-01', '2024-01-02', true)`],
  ['delivery_report_by', `select * from public.delivery_report_by('2024-01-01', '2024-01-02', true, true)`],
  ['number_health', 'select * from public.number_health()'],
  ['remind_list', `select * from public.remind_list(1, 7, '2024-01-02T12:00:00Z')`],
  ['templates_needing_attention', 'select * from public.templates_needing_attention()'],
  ['hourly_volume', `select * from public.hourly_volume('2024-01-01', '2024-01-02')`],
  ['best_send_hours', `select * from public.best_send_hours('2024-01-01', '2024-01-02', 1)`],
  ['top_recipients', `select * from public.top_recipients('2024-01-01', '2024-01-02', 5)`],
  ['failures_by_error', `select * from public.failures_by_error('2024-01-01', '2024-01-02')`],
  ['undelivered_messages', `select * from public.undelivered_messages(10, 24, '2024-01-01T12:00:00Z')`],
  ['unread_messages', `select * from public.unread_messages(1, 7, '2024-01-02T12:00:00Z')`],
  ['resend_list', `select * from public.resend_list(10, 24, '2024-01-01T12:00:00Z', '{131026}')`],
  ['resend_left_out', `select * from public.resend_left_out(24, '2024-01-01T12:00:00Z', '{131026}')`],
  ['pricing_breakdown', `select * from public.pricing_breakdown('2024-01-01', '2024-01-02')`],
  // Operator tools (npm run erase) run as the service role too; each entry point calls a shared body.
  ['erase_recipient', `select public.erase_recipient('+919800000000', 'permissions test')`],
  ['erase_recipient_user_id', `select public.erase_recipient_user_id('IN.1648738043044942', 'permissions test')`],
  ['message_status_dashboard (view)', 'select * from public.message_status_dashboard'],
  ['messages_to_resend (view)', 'select * from public.messages_to_resend'],
  ['messages_to_remind (view)', 'select * from public.messages_to_remind'],
];

describe.each(availableEngines())('grants and row level security (%s)', (engine) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(engine);
  });
  afterAll(() => db.drop());

  /** Runs `sql` as `role`, as Supabase's API does (`set role` on the connection). */
  async function asRole<Row>(role: SupabaseApiRole, sql: string): Promise<Row[]> {
    if (engine === 'postgres') {
      const client = new Client({ connectionString: db.url });
      await client.connect();
      try {
        await client.query(`set role ${role}`);
        return (await client.query(sql)).rows as Row[];
      } finally {
        await client.end();
      }
    }
    // PGlite is one session: switch it, and always switch back.
    await db.executor.exec(`set role ${role}`);
    try {
      return (await db.executor.query<Row>(sql)).rows;
    } finally {
      await db.executor.exec('reset role');
    }
  }
  const refusal = (role: SupabaseApiRole, sql: string) =>
    asRole(role, sql).then(
      () => 'allowed',
      (error: { code?: string }) => error.code,
    );

  it('has the three Supabase roles, service_role bypassing row level security', async () => {
    const { rows } = await db.executor.query<{ rolname: string; rolbypassrls: boolean }>(
      `select rolname, rolbypassrls from pg_roles where rolname = any($1) order by rolname`,
      [[...SUPABASE_API_ROLES]],
    );
    expect(rows).toEqual([
      { rolname: 'anon', rolbypassrls: false },
      { rolname: 'authenticated', rolbypassrls: false },
      { rolname: 'service_role', rolbypassrls: true },
    ]);
  });

  it('leaves anon and authenticated no privilege on any table, view or sequence in public', async () => {
    const { rows } = await db.executor.query<{ grant: string }>(
      `select r.role || ' ' || p.privilege || ' on ' || c.relname as grant
         from pg_class c
         cross join unnest($1::text[]) as r(role)
         cross join unnest(case when c.relkind = 'S' then array['usage', 'select', 'update']
                                else array['select', 'insert', 'update', 'delete', 'truncate', 'references', 'trigger'] end) as p(privilege)
        where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f')
          and case when c.relkind = 'S' then has_sequence_privilege(r.role, c.oid, p.privilege)
                   else has_table_privilege(r.role, c.oid, p.privilege) end
        order by 1`,
      [[...OUTSIDERS]],
    );
    expect(rows.map((r) => r.grant)).toEqual([]);
  });

  it('leaves anon and authenticated unable to execute any function in public', async () => {
    const { rows: functions } = await db.executor.query<{ n: number }>(
      `select count(*)::int as n from pg_proc where pronamespace = 'public'::regnamespace`,
    );
    expect(functions[0]?.n).toBeGreaterThanOrEqual(15);
    const { rows } = await db.executor.query<{ grant: string }>(
      `select r.role || ' may execute ' || p.oid::regprocedure::text as grant
         from pg_proc p cross join unnest($1::text[]) as r(role)
        where p.pronamespace = 'public'::regnamespace and has_function_privilege(r.role, p.oid, 'execute')
        order by 1`,
      [[...OUTSIDERS]],
    );
    expect(rows.map((r) => r.grant)).toEqual([]);
  });

  it.each(OUTSIDERS)(
    'refuses %s reading or writing the table and calling what the stack calls (42501)',
    async (role) => {
      expect(await refusal(role, 'select count(*) from public.broadcasts_messages')).toBe('42501');
      expect(await refusal(role, `insert into public.broadcasts_messages (message_id) values ('wamid.forged')`)).toBe(
        '42501',
      );
      for (const [, sql] of STACK_CALLS) expect([sql, await refusal(role, sql)]).toEqual([sql, '42501']);
    },
  );

  it('keeps rows hidden from anon by row level security even if the table were granted to it by mistake', async () => {
    await db.executor.query(
      `select * from public.apply_status_updates('[{"message_id":"wamid.rls","status":"sent","timestamp":"2024-01-01T09:00:00.000Z"}]'::jsonb)`,
    );
    const { rows } = await db.executor.query<{ relrowsecurity: boolean }>(
      `select relrowsecurity from pg_class where oid = 'public.broadcasts_messages'::regclass`,
    );
    expect(rows[0]?.relrowsecurity).toBe(true);
    await db.executor.exec('grant select, insert on public.broadcasts_messages to anon');
    try {
      expect(await asRole<{ n: number }>('anon', 'select count(*)::int as n from public.broadcasts_messages')).toEqual([
        { n: 0 },
      ]);
      expect(await refusal('anon', `insert into public.broadcasts_messages (message_id) values ('wamid.forged')`)).toBe(
        '42501',
      );
    } finally {
      await db.executor.exec('revoke select, insert on public.broadcasts_messages from anon');
    }
  });

  it('lets service_role do everything the stack does: apply updates, read the table, every report and health figure', async () => {
    for (const [name, sql] of STACK_CALLS) {
      await expect(asRole('service_role', sql).then(() => name)).resolves.toBe(name);
    }
    const stored = await asRole<{ message_id: string; current_status: string }>(
      'service_role',
      `select message_id, current_status from public.broadcasts_messages where message_id = 'wamid.perm'`,
    );
    expect(stored).toEqual([{ message_id: 'wamid.perm', current_status: 'read' }]);
    const report = await asRole<{ total_messages: string }>(
      'service_role',
      `select * from public.delivery_summary('2024-01-01', '2024-01-02')`,
    );
    expect(Number(report[0]?.total_messages)).toBeGreaterThanOrEqual(1);
  });
});
