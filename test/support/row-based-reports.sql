-- The row-based report and alarm functions as they were before the rollups (0004, 0005, 0008, 0012, 0014, 0019),
-- copied verbatim into the schema `oracle`: the property test (rollup-properties.test.ts) compares the rollup-based
-- functions with them. Not a migration.
create schema if not exists oracle;

create or replace function oracle.delivery_report_by(
  period_start timestamptz, period_end timestamptz, by_sender boolean default false, by_campaign boolean default false)
returns table (
  sender text,
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
  select case when by_sender then public.broadcasts_sender_label(
           m.sender_display_phone_number, m.sender_phone_number_id, m.sender_project_id) end,
         case when by_campaign then coalesce(m.campaign, '(none)') end,
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
   group by 1, 2
   order by 1 nulls first, 3 desc, 2;
$$;

create or replace function oracle.hourly_volume(period_start timestamptz, period_end timestamptz)
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

create or replace function oracle.best_send_hours(
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

create or replace function oracle.failures_by_error(period_start timestamptz, period_end timestamptz)
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

create or replace function oracle.read_heatmap(period_start timestamptz, period_end timestamptz, time_zone text default 'UTC')
returns table (weekday integer, hour_of_day integer, delivered bigint, read bigint, read_rate_percent numeric)
language sql stable
set search_path = public, pg_temp
as $$
  select extract(isodow from m.sent_at at time zone time_zone)::integer,
         extract(hour from m.sent_at at time zone time_zone)::integer,
         count(*) filter (where m.delivered_at is not null),
         count(*) filter (where m.read_at is not null),
         round(100.0 * count(*) filter (where m.read_at is not null)
               / nullif(count(*) filter (where m.delivered_at is not null), 0), 2)
    from public.broadcasts_messages m
   where m.sent_at >= period_start and m.sent_at < period_end
   group by 1, 2
   order by 1, 2;
$$;

create or replace function oracle.delay_distribution(period_start timestamptz, period_end timestamptz)
returns table (kind text, bucket_order integer, bucket text, messages bigint)
language sql stable
set search_path = public, pg_temp
as $$
  with delays as (
    select 'delivery' as kind, extract(epoch from m.reported_delivered_at - m.reported_sent_at) as seconds
      from public.broadcasts_messages m
     where m.sent_at >= period_start and m.sent_at < period_end
       and m.reported_delivered_at is not null and m.reported_sent_at is not null
       and not (m.inferred_stages && array['sent', 'delivered'])
    union all
    select 'read', extract(epoch from m.reported_read_at - m.reported_delivered_at)
      from public.broadcasts_messages m
     where m.sent_at >= period_start and m.sent_at < period_end
       and m.reported_read_at is not null and m.reported_delivered_at is not null
       and not (m.inferred_stages && array['delivered', 'read'])
  ),
  buckets(bucket_order, bucket, upper_seconds) as (
    values (1, '< 5 s', 5), (2, '5-30 s', 30), (3, '30 s-2 min', 120), (4, '2-10 min', 600),
           (5, '10-60 min', 3600), (6, '1-6 h', 21600), (7, '6-24 h', 86400), (8, '> 24 h', null)
  ),
  kinds(kind) as (values ('delivery'), ('read'))
  select k.kind, b.bucket_order, b.bucket,
         (select count(*) from delays d
           where d.kind = k.kind
             and d.seconds >= coalesce((select max(p.upper_seconds) from buckets p where p.bucket_order < b.bucket_order), -1e12)
             and (b.upper_seconds is null or d.seconds < b.upper_seconds))
    from kinds k cross join buckets b
   order by 1, 2;
$$;

create or replace function oracle.delay_percentiles(period_start timestamptz, period_end timestamptz)
returns table (delivery_p50_seconds numeric, delivery_p90_seconds numeric, read_p50_minutes numeric, read_p90_minutes numeric)
language sql stable
set search_path = public, pg_temp
as $$
  select round((percentile_cont(0.5) within group (order by extract(epoch from m.reported_delivered_at - m.reported_sent_at))
                 filter (where not (m.inferred_stages && array['sent', 'delivered'])))::numeric, 3),
         round((percentile_cont(0.9) within group (order by extract(epoch from m.reported_delivered_at - m.reported_sent_at))
                 filter (where not (m.inferred_stages && array['sent', 'delivered'])))::numeric, 3),
         round((percentile_cont(0.5) within group (order by extract(epoch from m.reported_read_at - m.reported_delivered_at) / 60)
                 filter (where not (m.inferred_stages && array['delivered', 'read'])))::numeric, 3),
         round((percentile_cont(0.9) within group (order by extract(epoch from m.reported_read_at - m.reported_delivered_at) / 60)
                 filter (where not (m.inferred_stages && array['delivered', 'read'])))::numeric, 3)
    from public.broadcasts_messages m
   where m.sent_at >= period_start and m.sent_at < period_end;
$$;

create or replace function oracle.delivery_health(
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

alter function oracle.hourly_volume(timestamptz, timestamptz) set timezone = 'UTC';

-- 0014's pricing_breakdown, row-based (0026 moved it onto its own rollup).
create or replace function oracle.pricing_breakdown(period_start timestamptz, period_end timestamptz)
returns table (
  campaign text, pricing_category text, pricing_type text, pricing_model text, pricing_billable boolean,
  phone_prefix text, messages bigint)
language sql stable
set search_path = public, pg_temp
as $$
  select coalesce(m.campaign, '(none)'), m.pricing_category, m.pricing_type, m.pricing_model, m.pricing_billable,
         left(ltrim(m.phone_number, '+'), 4), count(*)
    from public.broadcasts_messages m
   where ((m.sent_at >= period_start and m.sent_at < period_end)
       or (m.sent_at is null and m.failed_at >= period_start and m.failed_at < period_end))
   group by 1, 2, 3, 4, 5, 6
   order by 1, 7 desc, 2, 3, 4, 5, 6;
$$;
