-- apply_status_updates reports each message as the batch found it, exactly, under concurrent writers.
--
-- Until now the upsert's statement took its snapshot before it waited for another writer's lock on the same row. The
-- merge was right (ON CONFLICT DO UPDATE merges into the latest version), but previous_status was read from that
-- snapshot: the version before the other writer's change. With events on, a message could go sent -> delivered in
-- one event and sent -> read in the next, instead of delivered -> read; the processor counted the other writer's
-- stage as applied again. The end-to-end test caught it under CI load; test/integration/concurrency.test.ts now makes
-- both races happen on purpose (waiting for another writer's update, and for its first insert of the message) and
-- checks every message's chain of outbox entries after four writers at once.
--
-- Now:
--   * The batch is merged by the same upsert as before, inside a savepoint, and each changed row tells whether the
--     version it replaced is the one the snapshot showed (that version's xmax is the new version's xmin: this call
--     replaced it, and no one in between). Without contention on the batch's messages that is all (the write path's
--     speed is unchanged).
--   * When another writer changed or first inserted one of its messages in between, the try is undone and the batch
--     applied in two statements: one pass in message id order that inserts the new messages and only locks the
--     existing ones (ON CONFLICT DO UPDATE ... WHERE false locks the row and changes nothing; writers still take
--     their locks in one order, so they still cannot deadlock each other), then the same upsert, whose snapshot is
--     taken with every row locked. Locking the existing rows first with SELECT ... FOR UPDATE was tried: a new message
--     inserted by a third writer between two writers' locks deadlocked them. Doing the two statements every time
--     was tried too: 0.78-0.88x the write path's speed.
-- What the savepoint costs: each call's writes get a subtransaction id besides the transaction's, so the write path
-- consumes transaction ids twice as fast (anti-wraparound vacuum comes twice as often for the same traffic); a
-- caller should not make more than 64 calls in one transaction (the subtransaction cache of every backend would
-- overflow; the processor makes one). A message this transaction already changed in an earlier call is always seen as
-- stale (its xmax is then a MultiXact), which costs the two statements but gives the right answer. Under heavy
-- contention on the same messages a stale row redoes the whole batch (a review measured 193 of 600 calls falling
-- back with four writers on overlapping messages, 1.3-1.8x the time; 0 of 200 and 1 of 400 with little overlap).
-- A new message's previous status is null, also when a delete committed while the call waited for the row (0016
-- reported the deleted row's status there).
-- Rows, merge rules, result columns and order are otherwise unchanged. Forward-only and re-runnable, like the others.

-- The batch folded to one row per message: the same least() rules as the merge, so folding first changes nothing.
-- apply_status_updates folds it once into an array of this type for its tries (folding again cost 8 ms a batch of
-- 1,000). Stable (not immutable): a time without an offset is read in the session's time zone. The helpers are
-- PL/pgSQL, whose plans are kept for the session: as SQL functions they were planned on every call (0.84x the write
-- path's speed at batches of 100).
do $$
begin
  if not exists (select 1 from pg_type t join pg_namespace n on n.oid = t.typnamespace
                  where n.nspname = 'public' and t.typname = 'broadcasts_status_batch') then
    create type public.broadcasts_status_batch as (
      message_id text,
      phone_number text,
      recipient_user_id text,
      recipient_parent_user_id text,
      sender_waba_id text,
      sender_phone_number_id text,
      sender_display_phone_number text,
      sender_project_id text,
      reported_sent_at timestamptz,
      reported_delivered_at timestamptz,
      reported_read_at timestamptz,
      played_at timestamptz,
      failed_at timestamptz,
      failure jsonb,
      campaign text,
      provider_message_id text,
      conversation jsonb,
      pricing jsonb
    );
  end if;
end;
$$;

create or replace function public.broadcasts_fold_status_updates(updates jsonb)
returns setof public.broadcasts_status_batch
language plpgsql
stable
set search_path = public, pg_temp
as $$
begin
  return query
  with incoming as (
    select u.message_id, u.status, u."timestamp" as ts,
           nullif(u.phone_number, '') as phone_number,
           nullif(u.recipient_user_id, '') as recipient_user_id,
           nullif(u.recipient_parent_user_id, '') as recipient_parent_user_id,
           nullif(u.sender_waba_id, '') as sender_waba_id,
           nullif(u.sender_phone_number_id, '') as sender_phone_number_id,
           nullif(u.sender_display_phone_number, '') as sender_display_phone_number,
           nullif(u.sender_project_id, '') as sender_project_id,
           nullif(u.campaign, '') as campaign,
           nullif(u.provider_message_id, '') as provider_message_id,
           u.error, u.conversation, u.pricing
      from jsonb_to_recordset(updates) as u(
             message_id text, status text, "timestamp" timestamptz, phone_number text, campaign text,
             provider_message_id text, error jsonb, conversation jsonb, pricing jsonb,
             recipient_user_id text, recipient_parent_user_id text, sender_waba_id text,
             sender_phone_number_id text, sender_display_phone_number text, sender_project_id text)
  ),
  batch as (
    -- One row per message: the same least() rules as the merge below, so folding first changes nothing.
    select i.message_id,
           min(i.phone_number) as phone_number,
           min(i.recipient_user_id) as recipient_user_id,
           min(i.recipient_parent_user_id) as recipient_parent_user_id,
           min(i.sender_waba_id) as sender_waba_id,
           min(i.sender_phone_number_id) as sender_phone_number_id,
           min(i.sender_display_phone_number) as sender_display_phone_number,
           min(i.sender_project_id) as sender_project_id,
           min(i.ts) filter (where i.status = 'sent') as reported_sent_at,
           min(i.ts) filter (where i.status = 'delivered') as reported_delivered_at,
           min(i.ts) filter (where i.status = 'read') as reported_read_at,
           min(i.ts) filter (where i.status = 'played') as played_at,
           min(i.ts) filter (where i.status = 'failed') as failed_at,
           (array_agg(i.error order by i.ts, coalesce(i.error::text, '~'))
              filter (where i.status = 'failed'))[1] as failure,
           min(i.campaign) as campaign,
           min(i.provider_message_id) as provider_message_id,
           (array_agg(i.conversation order by i.conversation) filter (where i.conversation is not null))[1]
             as conversation,
           (array_agg(i.pricing order by i.pricing) filter (where i.pricing is not null))[1] as pricing
      from incoming i
     group by i.message_id
  )
  select * from batch;
end;
$$;

comment on function public.broadcasts_fold_status_updates(jsonb) is
  'apply_status_updates'' batch, one row per message (internal to it). See 0031.';

-- The merge of a folded batch: the upsert of 0016 (the one home of the merge rules), each changed row with its
-- status before, and `stale` when that status is not the version this statement replaced (another writer changed or
-- inserted the row after the statement's snapshot). Internal to apply_status_updates.
create or replace function public.broadcasts_merge_status_batch(batch public.broadcasts_status_batch[])
returns table (
  message_id text,
  inserted boolean,
  previous_status jsonb,
  status jsonb,
  inferred_stages text[],
  stale boolean
)
language plpgsql
volatile
set search_path = public, pg_temp
as $$
#variable_conflict use_column
begin
  return query
  with upserted as (
    insert into public.broadcasts_messages as m (
      message_id, phone_number, reported_sent_at, reported_delivered_at, reported_read_at, played_at, failed_at,
      failure, campaign, provider_message_id, conversation, pricing, recipient_user_id, recipient_parent_user_id,
      sender_waba_id, sender_phone_number_id, sender_display_phone_number, sender_project_id)
    select b.message_id, b.phone_number, b.reported_sent_at, b.reported_delivered_at, b.reported_read_at,
           b.played_at, b.failed_at, b.failure, b.campaign, b.provider_message_id, b.conversation, b.pricing,
           b.recipient_user_id, b.recipient_parent_user_id, b.sender_waba_id, b.sender_phone_number_id,
           b.sender_display_phone_number, b.sender_project_id
      from unnest(batch) b
     order by b.message_id
    on conflict on constraint broadcasts_messages_message_id_key do update set
      phone_number = least(m.phone_number, excluded.phone_number),
      reported_sent_at = least(m.reported_sent_at, excluded.reported_sent_at),
      reported_delivered_at = least(m.reported_delivered_at, excluded.reported_delivered_at),
      reported_read_at = least(m.reported_read_at, excluded.reported_read_at),
      played_at = least(m.played_at, excluded.played_at),
      failed_at = least(m.failed_at, excluded.failed_at),
      failure = public.broadcasts_earliest_failure(m.failed_at, m.failure, excluded.failed_at, excluded.failure),
      campaign = least(m.campaign, excluded.campaign),
      provider_message_id = least(m.provider_message_id, excluded.provider_message_id),
      conversation = least(m.conversation, excluded.conversation),
      pricing = least(m.pricing, excluded.pricing),
      recipient_user_id = least(m.recipient_user_id, excluded.recipient_user_id),
      recipient_parent_user_id = least(m.recipient_parent_user_id, excluded.recipient_parent_user_id),
      sender_waba_id = least(m.sender_waba_id, excluded.sender_waba_id),
      sender_phone_number_id = least(m.sender_phone_number_id, excluded.sender_phone_number_id),
      sender_display_phone_number = least(m.sender_display_phone_number, excluded.sender_display_phone_number),
      sender_project_id = least(m.sender_project_id, excluded.sender_project_id),
      updated_at = now()
    where (m.phone_number, m.reported_sent_at, m.reported_delivered_at, m.reported_read_at, m.played_at,
           m.failed_at, m.failure, m.campaign, m.provider_message_id, m.conversation, m.pricing,
           m.recipient_user_id, m.recipient_parent_user_id, m.sender_waba_id, m.sender_phone_number_id,
           m.sender_display_phone_number, m.sender_project_id)
          is distinct from
          (least(m.phone_number, excluded.phone_number),
           least(m.reported_sent_at, excluded.reported_sent_at),
           least(m.reported_delivered_at, excluded.reported_delivered_at),
           least(m.reported_read_at, excluded.reported_read_at),
           least(m.played_at, excluded.played_at),
           least(m.failed_at, excluded.failed_at),
           public.broadcasts_earliest_failure(m.failed_at, m.failure, excluded.failed_at, excluded.failure),
           least(m.campaign, excluded.campaign),
           least(m.provider_message_id, excluded.provider_message_id),
           least(m.conversation, excluded.conversation),
           least(m.pricing, excluded.pricing),
           least(m.recipient_user_id, excluded.recipient_user_id),
           least(m.recipient_parent_user_id, excluded.recipient_parent_user_id),
           least(m.sender_waba_id, excluded.sender_waba_id),
           least(m.sender_phone_number_id, excluded.sender_phone_number_id),
           least(m.sender_display_phone_number, excluded.sender_display_phone_number),
           least(m.sender_project_id, excluded.sender_project_id))
    returning m.message_id, (m.xmax = 0) as inserted, m.xmin, m.status, m.inferred_stages
  )
  -- The statement's snapshot does not see the upsert's own writes: this reads each changed row as the snapshot shows
  -- it. One index probe per changed row: `offset 0` keeps the lookup a per-row subquery, which the planner would
  -- otherwise turn into a join scanning the whole table whenever its statistics are stale (a new or truncated table).
  -- An inserted row has no status before, even when the snapshot still shows a row that a delete (retention,
  -- erasure) committed while this statement waited for it.
  select u.message_id, u.inserted, case when u.inserted then null else p.status end, u.status, u.inferred_stages,
         not u.inserted and p.xmax is distinct from u.xmin
    from upserted u
    left join lateral (
      select m.status, m.xmax from public.broadcasts_messages m where m.message_id = u.message_id offset 0
    ) p on true
   order by u.message_id;
end;
$$;

comment on function public.broadcasts_merge_status_batch(public.broadcasts_status_batch[]) is
  'apply_status_updates'' merge (internal to it). See 0031.';

-- The changed rows of a try, kept until it is known to stand.
do $$
begin
  if not exists (select 1 from pg_type t join pg_namespace n on n.oid = t.typnamespace
                  where n.nspname = 'public' and t.typname = 'broadcasts_status_change') then
    create type public.broadcasts_status_change as (
      message_id text,
      inserted boolean,
      previous_status jsonb,
      status jsonb,
      inferred_stages text[]
    );
  end if;
end;
$$;

-- Only the service role needs the helpers (apply_status_updates calls them as the caller), like 0007's.
do $$
declare
  fn text;
begin
  foreach fn in array array[
    'broadcasts_fold_status_updates(jsonb)',
    'broadcasts_merge_status_batch(public.broadcasts_status_batch[])']
  loop
    execute format('revoke execute on function public.%s from public', fn);
    if exists (select 1 from pg_roles where rolname = 'anon') then
      execute format('revoke execute on function public.%s from anon, authenticated', fn);
    end if;
    if exists (select 1 from pg_roles where rolname = 'service_role') then
      execute format('grant execute on function public.%s to service_role', fn);
    end if;
  end loop;
end;
$$;

create or replace function public.apply_status_updates(updates jsonb)
returns table (
  message_id text,
  inserted boolean,
  previous_status jsonb,
  status jsonb,
  inferred_stages text[]
)
language plpgsql
volatile
set search_path = public, pg_temp
as $$
#variable_conflict use_column
declare
  bad record;
  batch public.broadcasts_status_batch[];
  changes public.broadcasts_status_change[];
  inserted_rows public.broadcasts_status_change[];
  stale boolean;
begin
  if updates is null or jsonb_typeof(updates) <> 'array' then
    raise exception 'apply_status_updates: updates must be a JSON array' using errcode = '22023';
  end if;

  select u.ordinality - 1 as idx, u.value ->> 'message_id' as mid, u.value ->> 'status' as st
    into bad
    from jsonb_array_elements(updates) with ordinality as u(value, ordinality)
   where jsonb_typeof(u.value) <> 'object'
      or coalesce(u.value ->> 'message_id', '') = ''
      or coalesce(u.value ->> 'status', '') not in ('sent', 'delivered', 'read', 'played', 'failed')
      or u.value ->> 'timestamp' is null
   limit 1;
  if found then
    raise exception 'apply_status_updates: update % is invalid (message_id %, status %)', bad.idx, bad.mid, bad.st
      using errcode = '22023';
  end if;

  batch := array(select f from public.broadcasts_fold_status_updates(updates) f);

  -- The merge, as one statement, in a savepoint: it stands unless a row changed under it.
  begin
    select array_agg(row(c.message_id, c.inserted, c.previous_status, c.status, c.inferred_stages)
                       ::public.broadcasts_status_change order by c.message_id),
           coalesce(bool_or(c.stale), false)
      into changes, stale
      from public.broadcasts_merge_status_batch(batch) c;
    if not stale then
      return query select c.* from unnest(changes) c;
      return;
    end if;
    raise exception 'undo' using errcode = 'DT001';
  exception when sqlstate 'DT001' then
    -- Undone: another writer changed or inserted a message of this batch while this call waited for it.
  end;

  -- Again, with every row locked before the merge's snapshot. 1. Insert the new messages and lock the existing
  -- ones, in message id order (a writer still busy with one of them is waited for here).
  with inserted as (
    insert into public.broadcasts_messages as m (
      message_id, phone_number, reported_sent_at, reported_delivered_at, reported_read_at, played_at, failed_at,
      failure, campaign, provider_message_id, conversation, pricing, recipient_user_id, recipient_parent_user_id,
      sender_waba_id, sender_phone_number_id, sender_display_phone_number, sender_project_id)
    select b.message_id, b.phone_number, b.reported_sent_at, b.reported_delivered_at, b.reported_read_at,
           b.played_at, b.failed_at, b.failure, b.campaign, b.provider_message_id, b.conversation, b.pricing,
           b.recipient_user_id, b.recipient_parent_user_id, b.sender_waba_id, b.sender_phone_number_id,
           b.sender_display_phone_number, b.sender_project_id
      from unnest(batch) b
     order by b.message_id
    on conflict on constraint broadcasts_messages_message_id_key do update set updated_at = m.updated_at
    where false
    returning m.message_id, m.status, m.inferred_stages
  )
  -- `b` from unnest(batch) keeps the array's type: an array of anonymous records (from a CTE's `select *`) was
  -- converted through text, and a session with a non-ISO DateStyle read the times back in the wrong zone.
  select (select array_agg(b)
            from unnest(batch) b
           where not exists (select from inserted i where i.message_id = b.message_id)),
         (select coalesce(array_agg(row(i.message_id, true, null, i.status, i.inferred_stages)
                                    ::public.broadcasts_status_change), '{}')
            from inserted i)
    into batch, inserted_rows;

  -- 2. The merge of the rest: every row is locked by this transaction, so nothing waits and no row is stale.
  return query
  select c.* from (
    select m.message_id, m.inserted, m.previous_status, m.status, m.inferred_stages
      from public.broadcasts_merge_status_batch(batch) m
    union all
    select r.* from unnest(inserted_rows) r
  ) c
  order by c.message_id;
end;
$$;

comment on function public.apply_status_updates(jsonb) is
  'Applies a batch of WhatsApp status updates: order-independent, idempotent, concurrency-safe; previous_status is each row as the batch found it. See README.';
