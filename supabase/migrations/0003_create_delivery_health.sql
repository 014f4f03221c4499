-- Figures the alarms watch, computed from the rows themselves (not from counters that drift), by the scheduled
-- sweeper with one call. Cohorts (see README "Alarms"):
--   * delivery: messages sent in the `delivery_window_minutes` that ended `delivery_grace_minutes` ago (deliveries
--     lag sends, so the newest sends are left out until they had time to arrive);
--   * read: messages sent in the `read_window_hours` that ended `read_grace_minutes` ago; read rate = read/delivered;
--   * undelivered: sent more than `undelivered_after_minutes` ago (but within a day), neither delivered nor failed;
--   * average delivery time: over the delivery cohort, reported (not inferred) sent and delivered times only.

-- Every cohort is a range on the effective sent time.
create index if not exists broadcasts_messages_sent_at_idx on public.broadcasts_messages (sent_at);
-- Failures are few: a small partial index serves failure reports and messages that failed without being sent
-- (which belong to a period by their failure time).
create index if not exists broadcasts_messages_failed_at_idx on public.broadcasts_messages (failed_at)
  where failed_at is not null;
-- The undelivered count reads only the few rows still waiting.
create index if not exists broadcasts_messages_waiting_idx on public.broadcasts_messages (sent_at)
  where delivered_at is null and failed_at is null;

create or replace function public.delivery_health(
  as_of timestamptz default now(),
  delivery_window_minutes integer default 60,
  delivery_grace_minutes integer default 10,
  read_window_hours integer default 24,
  read_grace_minutes integer default 60,
  undelivered_after_minutes integer default 10)
returns table (
  computed_at timestamptz,
  cohort_sent bigint,
  cohort_delivered bigint,
  cohort_failed bigint,
  delivery_rate_percent numeric,
  avg_delivery_seconds numeric,
  delivery_latency_samples bigint,
  read_cohort_delivered bigint,
  read_cohort_read bigint,
  read_rate_percent numeric,
  undelivered_count bigint)
language sql
stable
set search_path = public, pg_temp
as $$
  with bounds as (
    select as_of as t,
           as_of - make_interval(mins => delivery_grace_minutes + delivery_window_minutes) as d_from,
           as_of - make_interval(mins => delivery_grace_minutes) as d_to,
           as_of - make_interval(mins => read_grace_minutes) - make_interval(hours => read_window_hours) as r_from,
           as_of - make_interval(mins => read_grace_minutes) as r_to,
           as_of - interval '24 hours' as u_from,
           as_of - make_interval(mins => undelivered_after_minutes) as u_to
  ),
  delivery as (
    select count(*) as sent,
           count(*) filter (where m.delivered_at is not null) as delivered,
           count(*) filter (where m.failed_at is not null and m.delivered_at is null) as failed,
           avg(extract(epoch from m.reported_delivered_at - m.reported_sent_at))
             filter (where not (m.inferred_stages && array['sent', 'delivered'])
                       and m.reported_delivered_at is not null and m.reported_sent_at is not null) as avg_seconds,
           count(*) filter (where not (m.inferred_stages && array['sent', 'delivered'])
                              and m.reported_delivered_at is not null and m.reported_sent_at is not null) as samples
      from public.broadcasts_messages m, bounds b
     where m.sent_at >= b.d_from and m.sent_at < b.d_to
  ),
  reading as (
    select count(*) filter (where m.delivered_at is not null) as delivered,
           count(*) filter (where m.read_at is not null) as read
      from public.broadcasts_messages m, bounds b
     where m.sent_at >= b.r_from and m.sent_at < b.r_to
  ),
  waiting as (
    select count(*) as n
      from public.broadcasts_messages m, bounds b
     where m.sent_at >= b.u_from and m.sent_at < b.u_to
       and m.delivered_at is null and m.failed_at is null
  )
  select b.t,
         d.sent, d.delivered, d.failed,
         case when d.sent > 0 then round(100.0 * d.delivered / d.sent, 2) end,
         round(d.avg_seconds, 3),
         d.samples,
         r.delivered, r.read,
         case when r.delivered > 0 then round(100.0 * r.read / r.delivered, 2) end,
         w.n
    from bounds b, delivery d, reading r, waiting w;
$$;

comment on function public.delivery_health(timestamptz, integer, integer, integer, integer, integer) is
  'Delivery rate, read rate, average delivery time and undelivered count for the alarms; see README "Alarms".';


revoke execute on function public.delivery_health(timestamptz, integer, integer, integer, integer, integer) from public;
do $$
begin
  if exists (select 1 from pg_roles where rolname = 'anon') then
    execute 'revoke execute on function public.delivery_health(timestamptz, integer, integer, integer, integer, integer) from anon, authenticated';
  end if;
  if exists (select 1 from pg_roles where rolname = 'service_role') then
    execute 'grant execute on function public.delivery_health(timestamptz, integer, integer, integer, integer, integer) to service_role';
  end if;
end;
$$;
