-- Retention (issue 15, item 3): with `retentionDays` set, the sweeper deletes the message rows sent before the
-- period, a small batch per call, a few batches per run (docs/retention.md). Off by default: nothing is deleted.
--
-- Which time: sent_at (the earliest reported stage, indexed since 0003), not created_at. Reports, the dashboard, the
-- alarms and the hourly rollups all place a message by its sent time, so deleting by it takes whole hours off the
-- old end of every report, never a part of one; created_at is the time the tracker first stored the row, which for an
-- adopted table or a status replayed from the archive says nothing of when the message went out, and it has no index.
-- A message with no sent time (failed before sending, or inserted by the user's sending code and never heard of)
-- expires by its failure time, else by created_at, through the small partial index below.
--
-- How: each call locks and deletes at most batch_size rows found through an index, in sent order, skipping rows
-- another transaction holds (the processor updating a late status): short transactions, row locks only, nothing that
-- blocks the writes. Deletes go through no trigger of this project, and rollup tables are not touched: reports of
-- periods older than the retention keep working from the rollups.
--
-- account_events are kept: a few rows a day per number, and the current quality, limit and template states
-- (phone_number_health, template_health) are each number's or template's latest event, however old.

create index if not exists broadcasts_messages_unsent_expiry_idx
  on public.broadcasts_messages ((coalesce(failed_at, created_at))) where sent_at is null;

create or replace function public.delete_expired_messages(older_than timestamptz, batch_size integer)
returns integer
language plpgsql
volatile
set search_path = public, pg_temp
as $$
declare
  deleted integer;
  unsent integer;
begin
  if older_than is null then
    raise exception 'delete_expired_messages: older_than is required' using errcode = '22023';
  end if;
  if batch_size is null or batch_size < 1 or batch_size > 10000 then
    raise exception 'delete_expired_messages: batch_size must be 1 to 10000, not %', batch_size using errcode = '22023';
  end if;
  with doomed as (
    select m.id from public.broadcasts_messages m
     where m.sent_at < older_than
     order by m.sent_at
     limit batch_size
       for update skip locked
  )
  delete from public.broadcasts_messages m using doomed d where m.id = d.id;
  get diagnostics deleted = row_count;
  -- Messages never sent, once the sent ones of the period are gone (few: failures before sending, pre-inserted rows).
  if deleted < batch_size then
    with doomed as (
      select m.id from public.broadcasts_messages m
       where m.sent_at is null and coalesce(m.failed_at, m.created_at) < older_than
       order by coalesce(m.failed_at, m.created_at)
       limit batch_size - deleted
         for update skip locked
    )
    delete from public.broadcasts_messages m using doomed d where m.id = d.id;
    get diagnostics unsent = row_count;
    deleted := deleted + unsent;
  end if;
  return deleted;
end;
$$;

comment on function public.delete_expired_messages(timestamptz, integer) is
  'Deletes at most batch_size messages sent (or, never sent, failed or stored) before older_than; returns the count. Called by the sweeper (docs/retention.md).';

-- What is left to delete, counted through the same indexes and never past up_to (the sweeper logs it as progress).
create or replace function public.expired_messages_remaining(older_than timestamptz, up_to integer)
returns bigint
language sql
stable
set search_path = public, pg_temp
as $$
  select least(count(*), greatest(up_to, 0))
    from ((select 1 from public.broadcasts_messages m where m.sent_at < older_than limit greatest(up_to, 0))
          union all
          (select 1 from public.broadcasts_messages m
            where m.sent_at is null and coalesce(m.failed_at, m.created_at) < older_than
            limit greatest(up_to, 0))) expired;
$$;

revoke execute on function public.delete_expired_messages(timestamptz, integer) from public;
revoke execute on function public.expired_messages_remaining(timestamptz, integer) from public;
do $$
begin
  if exists (select 1 from pg_roles where rolname = 'anon') then
    execute 'revoke execute on function public.delete_expired_messages(timestamptz, integer) from anon, authenticated';
    execute 'revoke execute on function public.expired_messages_remaining(timestamptz, integer) from anon, authenticated';
  end if;
  if exists (select 1 from pg_roles where rolname = 'service_role') then
    execute 'grant execute on function public.delete_expired_messages(timestamptz, integer) to service_role';
    execute 'grant execute on function public.expired_messages_remaining(timestamptz, integer) to service_role';
  end if;
end;
$$;
