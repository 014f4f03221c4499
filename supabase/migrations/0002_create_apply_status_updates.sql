-- apply_status_updates(updates jsonb): applies a whole batch of status updates in one statement.
--
-- `updates` is a JSON array of {message_id, status, timestamp, phone_number?, campaign?, provider_message_id?,
-- error?, conversation?, pricing?} with status one of sent, delivered, read, played, failed.
--
-- Rules (see README "Merge rules"):
--   * for each stage the earliest reported time wins, so a retry or duplicate changes nothing;
--   * a later stage implies the earlier ones (derived in the table's generated columns);
--   * failed keeps the earliest failure's details and is never cleared;
--   * several updates for one message in one batch are folded into one row first (Postgres refuses to touch a
--     row twice in one INSERT ... ON CONFLICT);
--   * rows are upserted in message_id order, so concurrent batches lock rows in the same order: no deadlock;
--   * a row whose merged values equal its current ones is not written: updated_at moves only on a change.
--
-- Returns one row per message that was inserted or changed, with its status before and after, for metrics.
-- `previous_status` is read from the statement's snapshot: under a concurrent write to the same message it can
-- be older than the version the upsert merged into (the stored row is still exact; only the metric can repeat).
-- Invalid input raises (SQLSTATE 22023 or a cast error): the whole batch is rolled back and retried by the queue.
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

  return query
  with incoming as (
    select u.message_id, u.status, u."timestamp" as ts,
           nullif(u.phone_number, '') as phone_number,
           nullif(u.campaign, '') as campaign,
           nullif(u.provider_message_id, '') as provider_message_id,
           u.error, u.conversation, u.pricing
      from jsonb_to_recordset(updates) as u(
             message_id text, status text, "timestamp" timestamptz, phone_number text, campaign text,
             provider_message_id text, error jsonb, conversation jsonb, pricing jsonb)
  ),
  batch as (
    -- One row per message: the same least() rules as the merge below, so folding first changes nothing.
    select i.message_id,
           min(i.phone_number) as phone_number,
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
  ),
  upserted as (
    insert into public.broadcasts_messages as m (
      message_id, phone_number, reported_sent_at, reported_delivered_at, reported_read_at, played_at, failed_at,
      failure, campaign, provider_message_id, conversation, pricing)
    select b.message_id, b.phone_number, b.reported_sent_at, b.reported_delivered_at, b.reported_read_at,
           b.played_at, b.failed_at, b.failure, b.campaign, b.provider_message_id, b.conversation, b.pricing
      from batch b
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
      updated_at = now()
    where (m.phone_number, m.reported_sent_at, m.reported_delivered_at, m.reported_read_at, m.played_at,
           m.failed_at, m.failure, m.campaign, m.provider_message_id, m.conversation, m.pricing)
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
           least(m.pricing, excluded.pricing))
    returning m.message_id, (m.xmax = 0) as inserted, m.status, m.inferred_stages
  )
  -- The statement's snapshot does not see the upsert's own writes: this reads each changed row as it was before.
  -- One index probe per changed row: `offset 0` keeps the lookup a per-row subquery, which the planner would
  -- otherwise turn into a join scanning the whole table whenever its statistics are stale (a new or truncated table).
  select u.message_id, u.inserted, p.status, u.status, u.inferred_stages
    from upserted u
    left join lateral (
      select m.status from public.broadcasts_messages m where m.message_id = u.message_id offset 0
    ) p on true
   order by u.message_id;
end;
$$;

comment on function public.apply_status_updates(jsonb) is
  'Applies a batch of WhatsApp status updates: order-independent, idempotent, concurrency-safe. See README.';

-- Only the service role may call it (Supabase grants new functions to anon and authenticated by default).
revoke execute on function public.apply_status_updates(jsonb) from public;
do $$
begin
  if exists (select 1 from pg_roles where rolname = 'anon') then
    execute 'revoke all on table public.broadcasts_messages from anon';
    execute 'revoke execute on function public.apply_status_updates(jsonb) from anon';
  end if;
  if exists (select 1 from pg_roles where rolname = 'authenticated') then
    execute 'revoke all on table public.broadcasts_messages from authenticated';
    execute 'revoke execute on function public.apply_status_updates(jsonb) from authenticated';
  end if;
  if exists (select 1 from pg_roles where rolname = 'service_role') then
    execute 'grant select, insert, update, delete on table public.broadcasts_messages to service_role';
    execute 'grant execute on function public.apply_status_updates(jsonb) to service_role';
  end if;
end;
$$;
