-- The report's "account health" section and user-id recipients in its lists (issue 14, items 1 and 3): each business number as Meta last described it, and
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

-- A recipient known only by WhatsApp user id (a user with a username, 0016) is a recipient like any other in the
-- lists: resend_list gains the user id (its return type changes, so it is dropped and created again; nothing depends
-- on it), remind_list is unread_messages with the user id (unread_messages stays as it was for the view
-- messages_to_remind), and top_recipients counts a person by phone, else by user id.
drop function if exists public.resend_list(integer, integer, timestamptz, integer[]);
create function public.resend_list(
  older_than_minutes integer, lookback_hours integer, as_of timestamptz, no_resend_codes integer[])
returns table (
  message_id text, phone_number text, campaign text, sent_at timestamptz, minutes_waiting numeric,
  failed_at timestamptz, error_code integer, recipient_user_id text)
language sql stable
set search_path = public, pg_temp
as $$
  select m.message_id, m.phone_number, m.campaign, m.sent_at,
         round(extract(epoch from as_of - coalesce(m.sent_at, m.failed_at)) / 60, 1),
         m.failed_at, m.error_code, m.recipient_user_id
    from public.broadcasts_messages m
   where ((m.sent_at >= as_of - make_interval(hours => lookback_hours) and m.sent_at < as_of)
       or (m.sent_at is null and m.failed_at >= as_of - make_interval(hours => lookback_hours)
           and m.failed_at < as_of))
     and m.delivered_at is null
     and case when m.failed_at is null then m.sent_at < as_of - make_interval(mins => older_than_minutes)
              else coalesce(m.error_code <> all(coalesce(no_resend_codes, '{}')), true) end
   order by coalesce(m.sent_at, m.failed_at), m.message_id;
$$;

create or replace function public.remind_list(
  older_than_hours integer default 24, lookback_days integer default 7, as_of timestamptz default now())
returns table (message_id text, phone_number text, campaign text, delivered_at timestamptz, hours_unread numeric,
               recipient_user_id text)
language sql stable
set search_path = public, pg_temp
as $$
  select m.message_id, m.phone_number, m.campaign, m.delivered_at,
         round(extract(epoch from as_of - m.delivered_at) / 3600, 1), m.recipient_user_id
    from public.broadcasts_messages m
   where m.read_at is null
     and m.delivered_at >= as_of - make_interval(days => lookback_days)
     and m.delivered_at < as_of - make_interval(hours => older_than_hours)
   order by m.delivered_at;
$$;

-- The same signature and columns as in 0004: `phone_number` is the phone, else the WhatsApp user id.
create or replace function public.top_recipients(
  period_start timestamptz, period_end timestamptz, max_rows integer default 20)
returns table (phone_number text, messages bigint, read bigint, read_rate_percent numeric, avg_read_delay_minutes numeric)
language sql stable
set search_path = public, pg_temp
as $$
  select coalesce(m.phone_number, m.recipient_user_id),
         count(*),
         count(*) filter (where m.read_at is not null),
         round(100.0 * count(*) filter (where m.read_at is not null)
               / nullif(count(*) filter (where m.delivered_at is not null), 0), 2),
         round(avg(extract(epoch from m.reported_read_at - m.reported_delivered_at) / 60)
                 filter (where not (m.inferred_stages && array['delivered', 'read'])), 3)
    from public.broadcasts_messages m
   where m.sent_at >= period_start and m.sent_at < period_end
     and coalesce(m.phone_number, m.recipient_user_id) is not null
   group by 1
   order by 3 desc, 4 desc nulls last, 1
   limit max_rows;
$$;

revoke execute on function public.resend_list(integer, integer, timestamptz, integer[]) from public;
revoke execute on function public.remind_list(integer, integer, timestamptz) from public;
do $$
begin
  if exists (select 1 from pg_roles where rolname = 'anon') then
    execute 'revoke execute on function public.resend_list(integer, integer, timestamptz, integer[]) from anon, authenticated';
    execute 'revoke execute on function public.remind_list(integer, integer, timestamptz) from anon, authenticated';
  end if;
  if exists (select 1 from pg_roles where rolname = 'service_role') then
    execute 'grant execute on function public.resend_list(integer, integer, timestamptz, integer[]) to service_role';
    execute 'grant execute on function public.remind_list(integer, integer, timestamptz) to service_role';
  end if;
end;
$$;
