-- apply_status_changes(updates jsonb): apply_status_updates, plus what a status-change event carries.
--
-- The processor calls this one when status-change events are on (docs/events.md). It applies the batch with
-- apply_status_updates, unchanged (still the one home of the merge rules), then reads, for each message that
-- function reports, the row's campaign, error code and title and phone number as they are after the merge.
-- Two statements in one function, so one call and one transaction: the second statement's snapshot sees the
-- first one's writes (a plpgsql statement in a volatile function takes a new snapshot), and the row it reads is
-- the row just written, or one a concurrent transaction committed since (read committed). The event's stage times
-- come from apply_status_updates' own `status`, so they are always those this call wrote.
create or replace function public.apply_status_changes(updates jsonb)
returns table (
  message_id text,
  inserted boolean,
  previous_status jsonb,
  status jsonb,
  inferred_stages text[],
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
declare
  changes jsonb;
begin
  select coalesce(jsonb_agg(to_jsonb(a) order by a.message_id), '[]'::jsonb)
    into changes
    from public.apply_status_updates(updates) a;

  -- One index probe per changed row: `offset 0` keeps the lookup a per-row subquery, as in apply_status_updates,
  -- so stale statistics (a new or truncated table) never turn it into a join that scans the whole table.
  return query
  select c.message_id, c.inserted, c.previous_status, c.status,
         array(select jsonb_array_elements_text(c.inferred_stages)),
         m.campaign, m.error_code, m.error_title, m.phone_number, m.recipient_user_id
    from jsonb_to_recordset(changes) as c(
           message_id text, inserted boolean, previous_status jsonb, status jsonb, inferred_stages jsonb)
    join lateral (
      select r.campaign, r.error_code, r.error_title, r.phone_number, r.recipient_user_id
        from public.broadcasts_messages r where r.message_id = c.message_id offset 0
    ) m on true
   order by c.message_id;
end;
$$;

comment on function public.apply_status_changes(jsonb) is
  'apply_status_updates plus the columns of a status-change event (campaign, error, phone). See docs/events.md.';

revoke execute on function public.apply_status_changes(jsonb) from public;
do $$
begin
  if exists (select 1 from pg_roles where rolname = 'anon') then
    execute 'revoke execute on function public.apply_status_changes(jsonb) from anon';
  end if;
  if exists (select 1 from pg_roles where rolname = 'authenticated') then
    execute 'revoke execute on function public.apply_status_changes(jsonb) from authenticated';
  end if;
  if exists (select 1 from pg_roles where rolname = 'service_role') then
    execute 'grant execute on function public.apply_status_changes(jsonb) to service_role';
  end if;
end;
$$;
