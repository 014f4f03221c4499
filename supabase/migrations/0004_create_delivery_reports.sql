-- What users of the original design asked their database, as functions and views: delivery and read rates,
-- delivery time, read delay, hourly volume, best hour to send, most engaged recipients, follow-up lists and
-- failures by error code. Latency figures use reported times only (inferred stages are left out, see
-- inferred_stages). A message belongs to a period by its sent time (its failure time if it was never sent).

-- Only delivered, unread messages: a message merely sent stays out of it (measured: every extra index entry costs
-- the write path a few percent). Per-campaign figures need no index of their own: they read the sent_at range.
create index if not exists broadcasts_messages_unread_idx on public.broadcasts_messages (delivered_at)
  where read_at is null and delivered_at is not null;

-- The headline figures for a period, overall or per campaign.
create or replace function public.delivery_report(
  period_start timestamptz, period_end timestamptz, by_campaign boolean default false)
returns table (
  campaign text,
  total_messages bigint,
  sent bigint,
  delivered bigint,
  read bigint,
  failed bigint,
  delivery_rate_percent numeric,
  read_rate_percent numeric,
  avg_delivery_seconds numeric,
  avg_read_delay_minutes numeric)
language sql stable
set search_path = public, pg_temp
as $$
  select case when by_campaign then coalesce(m.campaign, '(none)') end,
         count(*),
         count(*) filter (where m.sent_at is not null),
         count(*) filter (where m.delivered_at is not null),
         count(*) filter (where m.read_at is not null),
         count(*) filter (where m.failed_at is not null),
         round(100.0 * count(*) filter (where m.delivered_at is not null)
               / nullif(count(*) filter (where m.sent_at is not null), 0), 2),
         round(100.0 * count(*) filter (where m.read_at is not null)
               / nullif(count(*) filter (where m.delivered_at is not null), 0), 2),
         round(avg(extract(epoch from m.reported_delivered_at - m.reported_sent_at))
                 filter (where not (m.inferred_stages && array['sent', 'delivered'])), 3),
         round(avg(extract(epoch from m.reported_read_at - m.reported_delivered_at) / 60)
                 filter (where not (m.inferred_stages && array['delivered', 'read'])), 3)
    from public.broadcasts_messages m
   where ((m.sent_at >= period_start and m.sent_at < period_end)
       or (m.sent_at is null and m.failed_at >= period_start and m.failed_at < period_end))
   group by 1
   order by 2 desc;
$$;

-- Totals for a period (the daily summary): delivery_report's overall row, plus the window, and a row of zeros
-- (rates null) when nothing was sent, so the definition of every figure lives in delivery_report alone.
create or replace function public.delivery_summary(period_start timestamptz, period_end timestamptz)
returns table (
  window_start timestamptz,
  window_end timestamptz,
  total_messages bigint,
  sent bigint,
  delivered bigint,
  read bigint,
  failed bigint,
  delivery_rate_percent numeric,
  read_rate_percent numeric,
  avg_delivery_seconds numeric)
language sql stable
set search_path = public, pg_temp
as $$
  select period_start, period_end,
         coalesce(r.total_messages, 0), coalesce(r.sent, 0), coalesce(r.delivered, 0), coalesce(r.read, 0),
         coalesce(r.failed, 0), r.delivery_rate_percent, r.read_rate_percent, r.avg_delivery_seconds
    from (select 1) as one
    left join public.delivery_report(period_start, period_end, false) r on true;
$$;

-- Messages per hour of the period (UTC), by stage reached.
create or replace function public.hourly_volume(period_start timestamptz, period_end timestamptz)
returns table (hour timestamptz, sent bigint, delivered bigint, read bigint, failed bigint)
language sql stable
set search_path = public, pg_temp
as $$
  select date_trunc('hour', coalesce(m.sent_at, m.failed_at)),
         count(*) filter (where m.sent_at is not null),
         count(*) filter (where m.delivered_at is not null),
         count(*) filter (where m.read_at is not null),
         count(*) filter (where m.failed_at is not null)
    from public.broadcasts_messages m
   where ((m.sent_at >= period_start and m.sent_at < period_end)
       or (m.sent_at is null and m.failed_at >= period_start and m.failed_at < period_end))
   group by 1
   order by 1;
$$;

-- The hours of the day (UTC) whose messages were read most often, among hours with enough messages.
create or replace function public.best_send_hours(
  period_start timestamptz, period_end timestamptz, min_delivered integer default 20)
returns table (hour_of_day integer, delivered bigint, read bigint, read_rate_percent numeric)
language sql stable
set search_path = public, pg_temp
as $$
  select extract(hour from m.sent_at at time zone 'UTC')::integer,
         count(*) filter (where m.delivered_at is not null),
         count(*) filter (where m.read_at is not null),
         round(100.0 * count(*) filter (where m.read_at is not null)
               / nullif(count(*) filter (where m.delivered_at is not null), 0), 2)
    from public.broadcasts_messages m
   where m.sent_at >= period_start and m.sent_at < period_end
   group by 1
  having count(*) filter (where m.delivered_at is not null) >= min_delivered
   order by 4 desc nulls last, 2 desc, 1;
$$;

-- Recipients who read the most, and how fast (reported times only).
create or replace function public.top_recipients(
  period_start timestamptz, period_end timestamptz, max_rows integer default 20)
returns table (phone_number text, messages bigint, read bigint, read_rate_percent numeric, avg_read_delay_minutes numeric)
language sql stable
set search_path = public, pg_temp
as $$
  select m.phone_number,
         count(*),
         count(*) filter (where m.read_at is not null),
         round(100.0 * count(*) filter (where m.read_at is not null)
               / nullif(count(*) filter (where m.delivered_at is not null), 0), 2),
         round(avg(extract(epoch from m.reported_read_at - m.reported_delivered_at) / 60)
                 filter (where not (m.inferred_stages && array['delivered', 'read'])), 3)
    from public.broadcasts_messages m
   where m.sent_at >= period_start and m.sent_at < period_end and m.phone_number is not null
   group by m.phone_number
   order by 3 desc, 4 desc nulls last, 1
   limit max_rows;
$$;

-- Failures of the period by WhatsApp error code.
create or replace function public.failures_by_error(period_start timestamptz, period_end timestamptz)
returns table (error_code integer, error_title text, messages bigint, share_percent numeric)
language sql stable
set search_path = public, pg_temp
as $$
  select m.error_code, min(m.error_title), count(*),
         round(100.0 * count(*) / sum(count(*)) over (), 2)
    from public.broadcasts_messages m
   where m.failed_at >= period_start and m.failed_at < period_end
   group by m.error_code
   order by 3 desc, 1;
$$;

-- Follow-up: sent but neither delivered nor failed after `older_than_minutes` (re-send candidates).
create or replace function public.undelivered_messages(
  older_than_minutes integer default 10, lookback_hours integer default 24, as_of timestamptz default now())
returns table (message_id text, phone_number text, campaign text, sent_at timestamptz, minutes_waiting numeric)
language sql stable
set search_path = public, pg_temp
as $$
  select m.message_id, m.phone_number, m.campaign, m.sent_at,
         round(extract(epoch from as_of - m.sent_at) / 60, 1)
    from public.broadcasts_messages m
   where m.sent_at >= as_of - make_interval(hours => lookback_hours)
     and m.sent_at < as_of - make_interval(mins => older_than_minutes)
     and m.delivered_at is null and m.failed_at is null
   order by m.sent_at;
$$;

-- Follow-up: delivered but not read after `older_than_hours` (reminder candidates).
create or replace function public.unread_messages(
  older_than_hours integer default 24, lookback_days integer default 7, as_of timestamptz default now())
returns table (message_id text, phone_number text, campaign text, delivered_at timestamptz, hours_unread numeric)
language sql stable
set search_path = public, pg_temp
as $$
  select m.message_id, m.phone_number, m.campaign, m.delivered_at,
         round(extract(epoch from as_of - m.delivered_at) / 3600, 1)
    from public.broadcasts_messages m
   where m.read_at is null
     and m.delivered_at >= as_of - make_interval(days => lookback_days)
     and m.delivered_at < as_of - make_interval(hours => older_than_hours)
   order by m.delivered_at;
$$;

-- The original design's daily dashboard, now on effective times and without inferred latencies.
create or replace view public.message_status_dashboard as
  select (r.period_start at time zone 'UTC')::date as day, r.*
    from generate_series(date_trunc('day', now() at time zone 'UTC') - interval '29 days',
                         date_trunc('day', now() at time zone 'UTC'), interval '1 day') as d(day_start)
   cross join lateral (select (d.day_start at time zone 'UTC') as period_start) p
   cross join lateral (select p.period_start, s.total_messages, s.sent, s.delivered, s.read, s.failed,
                              s.delivery_rate_percent, s.read_rate_percent, s.avg_delivery_seconds
                         from public.delivery_summary(p.period_start, p.period_start + interval '1 day') s) r;

create or replace view public.messages_to_resend as select * from public.undelivered_messages();
create or replace view public.messages_to_remind as select * from public.unread_messages();

-- Views run with their owner's rights unless told otherwise: keep RLS in force for whoever queries them.
alter view public.message_status_dashboard set (security_invoker = true);
alter view public.messages_to_resend set (security_invoker = true);
alter view public.messages_to_remind set (security_invoker = true);

do $$
declare
  fn text;
begin
  foreach fn in array array[
    'delivery_report(timestamptz, timestamptz, boolean)', 'delivery_summary(timestamptz, timestamptz)', 'hourly_volume(timestamptz, timestamptz)',
    'best_send_hours(timestamptz, timestamptz, integer)', 'top_recipients(timestamptz, timestamptz, integer)',
    'failures_by_error(timestamptz, timestamptz)', 'undelivered_messages(integer, integer, timestamptz)',
    'unread_messages(integer, integer, timestamptz)']
  loop
    execute format('revoke execute on function public.%s from public', fn);
    if exists (select 1 from pg_roles where rolname = 'anon') then
      execute format('revoke execute on function public.%s from anon, authenticated', fn);
    end if;
    if exists (select 1 from pg_roles where rolname = 'service_role') then
      execute format('grant execute on function public.%s to service_role', fn);
    end if;
  end loop;
  if exists (select 1 from pg_roles where rolname = 'anon') then
    execute 'revoke all on public.message_status_dashboard, public.messages_to_resend, public.messages_to_remind from anon, authenticated';
  end if;
end;
$$;
