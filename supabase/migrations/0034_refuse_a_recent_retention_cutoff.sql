-- Retention refuses a cutoff less than 7 days old (issue 15; docs/retention.md).
--
-- The cutoff delete_expired_messages records (broadcasts_retention_state, 0032) only moves forward, and from then on
-- every status timed before it is dropped. The sweeper's cutoff is at least `retentionDays` back, and the stack
-- refuses fewer than 7 days (MessageRetentionDays, lambdas/domain/retention.ts). A call by hand had no such bound: a
-- time in the future, or a typo in the year, deleted every message and then dropped every status that arrived, until
-- someone cleared the state row. The bound is now the table's own, so it holds for a call by hand, through Supabase's
-- API, and for an insert into the state row: a cutoff later than 7 days before now() is refused with 22023 before
-- anything is deleted. The hour of slack keeps a sweeper whose clock runs a little ahead of the database's inside it.
--
-- A cutoff recorded before this migration stays as it is (the trigger looks only at new ones).
-- Forward-only and re-runnable, like the others.

create or replace function public.broadcasts_refuse_recent_cutoff()
returns trigger
language plpgsql
set search_path = public, pg_temp
as $$
begin
  -- 7 days: MessageRetentionDays' minimum (lambdas/domain/retention.ts); test/integration/retention.test.ts ties the two.
  -- Hours, not days: a day is 23 or 25 hours across a daylight-saving change in the session's time zone.
  if new.deleted_before > now() - interval '168 hours' + interval '1 hour' then
    raise exception 'retention cutoff % is less than 7 days before now (%): refused, nothing deleted',
      new.deleted_before, now()
      using errcode = '22023',
            hint = 'The cutoff is the time messages were sent before; retentionDays is at least 7.';
  end if;
  return new;
end;
$$;

-- A trigger's function: no API role calls it (Supabase grants new functions to anon and authenticated by default).
revoke execute on function public.broadcasts_refuse_recent_cutoff() from public;
do $$
begin
  if exists (select 1 from pg_roles where rolname = 'anon') then
    execute 'revoke execute on function public.broadcasts_refuse_recent_cutoff() from anon, authenticated';
  end if;
end;
$$;

drop trigger if exists broadcasts_retention_state_refuse_recent on public.broadcasts_retention_state;
create trigger broadcasts_retention_state_refuse_recent
  before insert or update of deleted_before on public.broadcasts_retention_state
  for each row execute function public.broadcasts_refuse_recent_cutoff();
