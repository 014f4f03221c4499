-- delivery_health, second version: the figures the redesigned alarms need (docs/alarms.md).
--   * delivery cohort: messages sent in the `delivery_window_minutes` that ended `delivery_grace_minutes` ago, with
--     its size, delivery rate, failure rate, the error code most of its failures carry, and the median (not the
--     mean: a few phones that come back online hours later would dominate a mean) reported delivery time;
--   * read cohort: messages sent in the `read_window_hours` that ended `read_grace_minutes` ago; read / delivered;
--   * undelivered: messages sent between `undelivered_within_minutes` and `undelivered_after_minutes` ago that have
--     neither a delivery nor a failure, as a count and as a share of what was sent then. Only recent sends count:
--     2-8 % of a broadcast's recipients have their phone off for hours or days, which is normal on WhatsApp and
--     must not keep an alarm up for a day (the first version looked back 24 hours).
-- The window lengths have no defaults here: the one home of their defaults and ranges is
-- lambdas/domain/alert-settings.ts, and every caller passes all of them.

drop function if exists public.delivery_health(timestamptz, integer, integer, integer, integer, integer);

create or replace function public.delivery_health(
  as_of timestamptz,
  delivery_window_minutes integer,
  delivery_grace_minutes integer,
  read_window_hours integer,
  read_grace_minutes integer,
  undelivered_after_minutes integer,
  undelivered_within_minutes integer)
returns table (
  computed_at timestamptz,
  cohort_sent bigint,
  cohort_delivered bigint,
  cohort_failed bigint,
  delivery_rate_percent numeric,
  failure_rate_percent numeric,
  top_error_code integer,
  top_error_title text,
  top_error_count bigint,
  avg_delivery_seconds numeric,
  median_delivery_seconds numeric,
  delivery_latency_samples bigint,
  read_cohort_delivered bigint,
  read_cohort_read bigint,
  read_rate_percent numeric,
  undelivered_cohort_sent bigint,
  undelivered_count bigint,
  undelivered_percent numeric)
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
           as_of - make_interval(mins => undelivered_within_minutes) as u_from,
           as_of - make_interval(mins => undelivered_after_minutes) as u_to
  ),
  cohort as (
    select m.delivered_at, m.failed_at, m.error_code, m.error_title,
           case when not (m.inferred_stages && array['sent', 'delivered'])
                 and m.reported_delivered_at is not null and m.reported_sent_at is not null
                then extract(epoch from m.reported_delivered_at - m.reported_sent_at) end as delivery_seconds
      from public.broadcasts_messages m, bounds b
     where m.sent_at >= b.d_from and m.sent_at < b.d_to
  ),
  delivery as (
    select count(*) as sent,
           count(*) filter (where delivered_at is not null) as delivered,
           count(*) filter (where failed_at is not null and delivered_at is null) as failed,
           avg(delivery_seconds) as avg_seconds,
           percentile_cont(0.5) within group (order by delivery_seconds) as median_seconds,
           count(delivery_seconds) as samples
      from cohort
  ),
  top_error as (
    select error_code as code, min(error_title) as title, count(*) as n
      from cohort
     where failed_at is not null and delivered_at is null and error_code is not null
     group by error_code
     order by count(*) desc, error_code
     limit 1
  ),
  reading as (
    select count(*) filter (where m.delivered_at is not null) as delivered,
           count(*) filter (where m.read_at is not null) as read
      from public.broadcasts_messages m, bounds b
     where m.sent_at >= b.r_from and m.sent_at < b.r_to
  ),
  waiting as (
    select count(*) as sent,
           count(*) filter (where m.delivered_at is null and m.failed_at is null) as waiting
      from public.broadcasts_messages m, bounds b
     where m.sent_at >= b.u_from and m.sent_at < b.u_to
  )
  select b.t,
         d.sent, d.delivered, d.failed,
         case when d.sent > 0 then round(100.0 * d.delivered / d.sent, 2) end,
         case when d.sent > 0 then round(100.0 * d.failed / d.sent, 2) end,
         e.code, e.title, coalesce(e.n, 0),
         round(d.avg_seconds, 3),
         round(d.median_seconds::numeric, 3),
         d.samples,
         r.delivered, r.read,
         case when r.delivered > 0 then round(100.0 * r.read / r.delivered, 2) end,
         w.sent, w.waiting,
         case when w.sent > 0 then round(100.0 * w.waiting / w.sent, 2) end
    from bounds b
    cross join delivery d
    cross join reading r
    cross join waiting w
    left join top_error e on true;
$$;

comment on function public.delivery_health(timestamptz, integer, integer, integer, integer, integer, integer) is
  'The figures the sweeper publishes for the alarms (docs/alarms.md); window defaults live in lambdas/domain/alert-settings.ts.';

revoke execute on function public.delivery_health(timestamptz, integer, integer, integer, integer, integer, integer) from public;
do $$
begin
  if exists (select 1 from pg_roles where rolname = 'anon') then
    execute 'revoke execute on function public.delivery_health(timestamptz, integer, integer, integer, integer, integer, integer) from anon, authenticated';
  end if;
  if exists (select 1 from pg_roles where rolname = 'service_role') then
    execute 'grant execute on function public.delivery_health(timestamptz, integer, integer, integer, integer, integer, integer) to service_role';
  end if;
end;
$$;
