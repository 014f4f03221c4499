-- Figures for the HTML report's charts (tools/report-html.ts). Periods as in 0004: a message belongs to a period
-- by its sent time; latency figures use reported times only (a stage in `inferred_stages` is left out).

-- Read rate by weekday (ISO: 1 = Monday) and hour of the day in a time zone: the best time to send, with the sample
-- size of every cell so a thin cell is not mistaken for a good one.
create or replace function public.read_heatmap(period_start timestamptz, period_end timestamptz, time_zone text default 'UTC')
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

-- How long deliveries and reads took: counts per bucket (not only the mean, which a few late phones dominate), and
-- the median and 90th percentile.
create or replace function public.delay_distribution(period_start timestamptz, period_end timestamptz)
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

create or replace function public.delay_percentiles(period_start timestamptz, period_end timestamptz)
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

do $$
declare
  fn text;
begin
  foreach fn in array array['read_heatmap(timestamptz, timestamptz, text)', 'delay_distribution(timestamptz, timestamptz)',
                            'delay_percentiles(timestamptz, timestamptz)']
  loop
    execute format('revoke execute on function public.%s from public', fn);
    if exists (select 1 from pg_roles where rolname = 'anon') then
      execute format('revoke execute on function public.%s from anon, authenticated', fn);
    end if;
    if exists (select 1 from pg_roles where rolname = 'service_role') then
      execute format('grant execute on function public.%s to service_role', fn);
    end if;
  end loop;
end;
$$;
