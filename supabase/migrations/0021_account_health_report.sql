-- The report's "account health" section (issue 14, item 3): each business number as Meta last described it, and
-- the templates that are not APPROVED. Functions over the views of 0018, so every way the report reaches the
-- database (SQL, or PostgREST's rpc for the sweeper's daily report) calls them by name like the other sections.

create or replace function public.number_health()
returns table (phone_number text, quality_event text, quality_since timestamptz, messaging_limit text,
               limit_since timestamptz, last_event text, last_severity text, last_event_at timestamptz)
language sql stable
set search_path = public, pg_temp
as $$
  select h.phone_number, h.quality_event, h.quality_since, h.messaging_limit, h.limit_since, h.last_event,
         h.last_severity, h.last_event_at
    from public.phone_number_health h
   order by h.phone_number;
$$;

create or replace function public.templates_needing_attention()
returns table (template_id text, template text, status text, status_since timestamptz, reason text, quality text,
               quality_since timestamptz)
language sql stable
set search_path = public, pg_temp
as $$
  select t.template_id, t.template, t.status, t.status_since, t.reason, t.quality, t.quality_since
    from public.template_health t
   where t.status is distinct from 'APPROVED' or t.quality in ('YELLOW', 'RED')
   order by t.status_since desc nulls last, t.template_id;
$$;

revoke execute on function public.number_health() from public;
revoke execute on function public.templates_needing_attention() from public;
do $$
begin
  if exists (select 1 from pg_roles where rolname = 'anon') then
    execute 'revoke execute on function public.number_health() from anon, authenticated';
    execute 'revoke execute on function public.templates_needing_attention() from anon, authenticated';
  end if;
  if exists (select 1 from pg_roles where rolname = 'service_role') then
    execute 'grant execute on function public.number_health() to service_role';
    execute 'grant execute on function public.templates_needing_attention() to service_role';
  end if;
end;
$$;
