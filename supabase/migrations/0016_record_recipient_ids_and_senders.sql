-- Who a message went to when WhatsApp gives no phone number, and which business sent it (issue 14, items 1 and 2).
--
-- Since 2026 Meta's statuses carry `recipient_user_id` (the business-scoped user id, BSUID) and
-- `recipient_parent_user_id`, and leave out `recipient_id` (the phone) for users who adopted a username. A message
-- with only a user id is a recipient like any other: the reports and lists read coalesce(phone_number,
-- recipient_user_id). The sender is Meta's WhatsApp Business Account (`entry[].id`), the business phone number's
-- id and display number (`value.metadata`), or AiSensy's project (`project_id`).
--
-- Every new column merges with least(), like the others: a status with the phone and another with the user id give
-- a row with both, whatever their order. New columns are nullable with no default: adding them rewrites nothing,
-- on a new table or on an adopted one of millions of rows (measured in docs/adoption.md for the other columns).

alter table public.broadcasts_messages
  add column if not exists recipient_user_id text,
  add column if not exists recipient_parent_user_id text,
  add column if not exists sender_waba_id text,
  add column if not exists sender_phone_number_id text,
  add column if not exists sender_display_phone_number text,
  add column if not exists sender_project_id text;

comment on column public.broadcasts_messages.recipient_user_id is
  'WhatsApp business-scoped user id (BSUID), e.g. IN.1648738043044942: beside phone_number, or alone for a username user.';
comment on column public.broadcasts_messages.sender_phone_number_id is
  'The business phone number''s id in Meta''s API (metadata.phone_number_id); sender_display_phone_number is the number.';

-- Erasure and the lists look people up by user id as by phone. Partial: rows without one (all rows before 2026)
-- cost nothing, and building it on an adopted table only reads it.
create index if not exists broadcasts_messages_recipient_user_id_idx
  on public.broadcasts_messages (recipient_user_id) where recipient_user_id is not null;

-- The same function as 0002, with the six new fields read, folded and merged like phone_number.
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
  ),
  upserted as (
    insert into public.broadcasts_messages as m (
      message_id, phone_number, reported_sent_at, reported_delivered_at, reported_read_at, played_at, failed_at,
      failure, campaign, provider_message_id, conversation, pricing, recipient_user_id, recipient_parent_user_id,
      sender_waba_id, sender_phone_number_id, sender_display_phone_number, sender_project_id)
    select b.message_id, b.phone_number, b.reported_sent_at, b.reported_delivered_at, b.reported_read_at,
           b.played_at, b.failed_at, b.failure, b.campaign, b.provider_message_id, b.conversation, b.pricing,
           b.recipient_user_id, b.recipient_parent_user_id, b.sender_waba_id, b.sender_phone_number_id,
           b.sender_display_phone_number, b.sender_project_id
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
