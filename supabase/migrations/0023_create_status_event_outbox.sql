-- The status-change events' transactional outbox (docs/events.md#the-outbox).
--
-- Until now the processor put the events on EventBridge itself after the batch committed: every batch waited for
-- PutEvents (2.6-5x the batch's time against a 2 ms database), and a crash between the commit and the publish lost
-- the events. Now apply_status_updates_with_events writes one outbox row per change in the same transaction as the rows, and a
-- relay (lambdas/processor/status-event-relay.ts) drains the outbox to the bus outside the status batch: an event is
-- in the outbox if and only if its change is committed.
--
-- What a row holds: the change itself (message id, stage times before and after, inferred stages) and when it was
-- applied; never the phone number. The relay reads the campaign, the error and the recipient from the message's row
-- when it claims the entry, so an erased recipient (erase_recipient) is not published from here, and the hot path
-- writes one narrow row per change without reading the message's row back (0020's second statement cost the
-- processor 1.10-1.36x; this one is a single statement).

create table if not exists public.status_event_outbox (
  id bigint generated always as identity primary key,
  message_id text not null,
  inserted boolean not null,
  previous_status jsonb,
  status jsonb not null,
  inferred_stages text[] not null default '{}',
  -- The transaction's time: the event's `time`.
  applied_at timestamptz not null default now(),
  -- A relay's lease: until then no other relay claims the entry. Null: never claimed. A relay that crashed (or
  -- whose PutEvents the bus refused) leaves the lease to expire, and the entry is claimed again.
  claimed_until timestamptz,
  -- Claims so far: an entry the bus keeps refusing shows here (and in the relay's StatusEventsParked metric).
  attempts integer not null default 0
);

comment on table public.status_event_outbox is
  'Status-change events not yet accepted by EventBridge: written by apply_status_updates_with_events, drained by the relay with claim_status_events and ack_status_events. See docs/events.md.';

alter table public.status_event_outbox enable row level security;

-- The processor with events on: apply_status_updates (still the one home of the merge rules) plus one outbox row
-- per message whose stage times changed (or that the batch created), in one statement and so in one transaction.
-- It returns what apply_status_updates returns: the processor needs nothing more (its metrics), and the event's
-- other fields are read by the relay. A new function rather than a redefinition of 0020's apply_status_changes:
-- that one's result has five more columns, which would cost the read-back this design avoids, and a narrower result
-- cannot replace it (0020 re-run with psql would then fail with "cannot change return type"). apply_status_changes
-- stays as it is, unused from this release on, so that a processor of the previous release keeps working while a
-- deploy rolls out; a later migration may drop it.
-- The outbox rows are written in message id order, so one message's changes get increasing ids in commit order
-- (a second transaction changing the same message waits for the first one's row lock before writing its own).
create or replace function public.apply_status_updates_with_events(updates jsonb)
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
begin
  return query
  with applied as materialized (
    select a.message_id, a.inserted, a.previous_status, a.status, a.inferred_stages
      from public.apply_status_updates(updates) a
  ), queued as (
    insert into public.status_event_outbox (message_id, inserted, previous_status, status, inferred_stages)
    select c.message_id, c.inserted, c.previous_status, c.status, coalesce(c.inferred_stages, '{}')
      from applied c
     where c.inserted or c.previous_status is distinct from c.status
     order by c.message_id
  )
  select c.message_id, c.inserted, c.previous_status, c.status, c.inferred_stages from applied c;
end;
$$;

comment on function public.apply_status_updates_with_events(jsonb) is
  'apply_status_updates plus one status_event_outbox row per changed message, in the same transaction. See docs/events.md.';

-- A relay claims up to max_events entries that no live lease holds, oldest first, and leases them for
-- lease_seconds: `for update skip locked`, so relays running at once never claim the same entry. Each comes with
-- the message's campaign, recipient (phone, else WhatsApp user id) and, when the change has a failed stage, the
-- error, as the row is now (null when the row was erased).
create or replace function public.claim_status_events(max_events integer default 100, lease_seconds integer default 60)
returns table (
  id bigint,
  message_id text,
  inserted boolean,
  previous_status jsonb,
  status jsonb,
  inferred_stages text[],
  applied_at timestamptz,
  attempts integer,
  campaign text,
  error_code integer,
  error_title text,
  phone_number text,
  recipient_user_id text
)
language plpgsql
volatile
set search_path = public, pg_temp
as $$
#variable_conflict use_column
begin
  if max_events is null or max_events < 1 or max_events > 10000 then
    raise exception 'claim_status_events: max_events must be between 1 and 10000' using errcode = '22023';
  end if;
  if lease_seconds is null or lease_seconds < 0 or lease_seconds > 3600 then
    raise exception 'claim_status_events: lease_seconds must be between 0 and 3600' using errcode = '22023';
  end if;
  return query
  with claimed as (
    update public.status_event_outbox o
       set claimed_until = clock_timestamp() + make_interval(secs => lease_seconds),
           attempts = o.attempts + 1
     where o.id in (
       select f.id from public.status_event_outbox f
        where f.claimed_until is null or f.claimed_until <= clock_timestamp()
        order by f.id
        limit max_events
          for update skip locked
     )
    returning o.id, o.message_id, o.inserted, o.previous_status, o.status, o.inferred_stages, o.applied_at, o.attempts
  )
  select c.id, c.message_id, c.inserted, c.previous_status, c.status, c.inferred_stages, c.applied_at, c.attempts,
         m.campaign,
         case when c.status ? 'failed' then m.error_code end,
         case when c.status ? 'failed' then m.error_title end,
         m.phone_number, m.recipient_user_id
    from claimed c
    left join lateral (
      select r.campaign, r.error_code, r.error_title, r.phone_number, r.recipient_user_id
        from public.broadcasts_messages r where r.message_id = c.message_id offset 0
    ) m on true
   order by c.id;
end;
$$;

comment on function public.claim_status_events(integer, integer) is
  'Leases up to max_events outbox entries (for update skip locked) with what their events carry. See docs/events.md.';

-- The bus accepted these entries: they leave the outbox. Returns how many were deleted (an entry whose lease had
-- expired and that another relay published and acknowledged first is simply gone: at least once).
create or replace function public.ack_status_events(ids bigint[])
returns integer
language plpgsql
volatile
set search_path = public, pg_temp
as $$
declare
  deleted integer;
begin
  delete from public.status_event_outbox where id = any(coalesce(ids, '{}'));
  get diagnostics deleted = row_count;
  return deleted;
end;
$$;

comment on function public.ack_status_events(bigint[]) is
  'Deletes the outbox entries the bus accepted. See docs/events.md.';

revoke execute on function public.apply_status_updates_with_events(jsonb) from public;
revoke execute on function public.claim_status_events(integer, integer) from public;
revoke execute on function public.ack_status_events(bigint[]) from public;
revoke all on table public.status_event_outbox from public;
do $$
begin
  if exists (select 1 from pg_roles where rolname = 'anon') then
    execute 'revoke execute on function public.apply_status_updates_with_events(jsonb), public.claim_status_events(integer, integer), public.ack_status_events(bigint[]) from anon, authenticated';
    execute 'revoke all on table public.status_event_outbox from anon, authenticated';
    execute format('revoke all on sequence %s from anon, authenticated', pg_get_serial_sequence('public.status_event_outbox', 'id'));
  end if;
  if exists (select 1 from pg_roles where rolname = 'service_role') then
    execute 'grant execute on function public.apply_status_updates_with_events(jsonb), public.claim_status_events(integer, integer), public.ack_status_events(bigint[]) to service_role';
    execute 'grant select, insert, update, delete on table public.status_event_outbox to service_role';
  end if;
end;
$$;
