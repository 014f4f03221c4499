-- delivery_health per sender (issue 14, item 2): the same figures as delivery_health (0005), one row per sender the
-- user lists in the config (`senderHealth`), so that one number or AiSensy project going bad is seen even when the
-- others hide it in the global rates. A sender is named by its phone number id (Meta's metadata.phone_number_id) or
-- its AiSensy project id; a message belongs to every listed id it carries.
--
-- Written over the message rows, in 0005's shape (the same windows, the same rules), so that it can move onto the
-- hourly rollups with delivery_health. Only the listed senders are computed: the sweeper publishes a metric per
-- sender and figure, and each costs money (docs/alarms.md#alarms-per-sender).
--
-- A listed sender with no message in a window gets a row of zeros and null rates, as delivery_health does; the rows
-- come in the order of `senders`, each id once.

create or replace function public.delivery_health_by_sender(
  as_of timestamptz,
  delivery_window_minutes integer,
  delivery_grace_minutes integer,
  read_window_hours integer,
  read_grace_minutes integer,
  undelivered_after_minutes integer,
  undelivered_within_minutes integer,
  senders text[])
returns table (
  sender_id text,
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
  listed as (
    select s.id, min(s.position) as position
      from unnest(senders) with ordinality as s(id, position)
     where coalesce(s.id, '') <> ''
     group by s.id
  ),
  -- Each window reads its sent_at range through the index, as in 0005, and keeps the rows of listed senders.
  cohort as (
    select l.id as sender_id, m.delivered_at, m.failed_at, m.error_code, m.error_title,
           case when not (m.inferred_stages && array['sent', 'delivered'])
                 and m.reported_delivered_at is not null and m.reported_sent_at is not null
                then extract(epoch from m.reported_delivered_at - m.reported_sent_at) end as delivery_seconds
      from public.broadcasts_messages m
      cross join bounds b
      join listed l on l.id = m.sender_phone_number_id or l.id = m.sender_project_id
     where m.sent_at >= b.d_from and m.sent_at < b.d_to
  ),
  delivery as (
    select sender_id,
           count(*) as sent,
           count(*) filter (where delivered_at is not null) as delivered,
           count(*) filter (where failed_at is not null and delivered_at is null) as failed,
           avg(delivery_seconds) as avg_seconds,
           percentile_cont(0.5) within group (order by delivery_seconds) as median_seconds,
           count(delivery_seconds) as samples
      from cohort
     group by sender_id
  ),
  top_error as (
    select distinct on (sender_id) sender_id, error_code as code, min(error_title) as title, count(*) as n
      from cohort
     where failed_at is not null and delivered_at is null and error_code is not null
     group by sender_id, error_code
     order by sender_id, count(*) desc, error_code
  ),
  reading as (
    select l.id as sender_id,
           count(*) filter (where m.delivered_at is not null) as delivered,
           count(*) filter (where m.read_at is not null) as read
      from public.broadcasts_messages m
      cross join bounds b
      join listed l on l.id = m.sender_phone_number_id or l.id = m.sender_project_id
     where m.sent_at >= b.r_from and m.sent_at < b.r_to
     group by l.id
  ),
  waiting as (
    select l.id as sender_id,
           count(*) as sent,
           count(*) filter (where m.delivered_at is null and m.failed_at is null) as waiting
      from public.broadcasts_messages m
      cross join bounds b
      join listed l on l.id = m.sender_phone_number_id or l.id = m.sender_project_id
     where m.sent_at >= b.u_from and m.sent_at < b.u_to
     group by l.id
  )
  select l.id,
         b.t,
         coalesce(d.sent, 0), coalesce(d.delivered, 0), coalesce(d.failed, 0),
         case when d.sent > 0 then round(100.0 * d.delivered / d.sent, 2) end,
         case when d.sent > 0 then round(100.0 * d.failed / d.sent, 2) end,
         e.code, e.title, coalesce(e.n, 0),
         round(d.avg_seconds, 3),
         round(d.median_seconds::numeric, 3),
         coalesce(d.samples, 0),
         coalesce(r.delivered, 0), coalesce(r.read, 0),
         case when r.delivered > 0 then round(100.0 * r.read / r.delivered, 2) end,
         coalesce(w.sent, 0), coalesce(w.waiting, 0),
         case when w.sent > 0 then round(100.0 * w.waiting / w.sent, 2) end
    from listed l
    cross join bounds b
    left join delivery d on d.sender_id = l.id
    left join reading r on r.sender_id = l.id
    left join waiting w on w.sender_id = l.id
    left join top_error e on e.sender_id = l.id
   order by l.position;
$$;

comment on function public.delivery_health_by_sender(timestamptz, integer, integer, integer, integer, integer, integer, text[]) is
  'delivery_health''s figures for each listed sender (phone number id or AiSensy project id); the sweeper publishes them with a Sender dimension (docs/alarms.md).';

revoke execute on function public.delivery_health_by_sender(timestamptz, integer, integer, integer, integer, integer, integer, text[]) from public;
do $$
begin
  if exists (select 1 from pg_roles where rolname = 'anon') then
    execute 'revoke execute on function public.delivery_health_by_sender(timestamptz, integer, integer, integer, integer, integer, integer, text[]) from anon, authenticated';
  end if;
  if exists (select 1 from pg_roles where rolname = 'service_role') then
    execute 'grant execute on function public.delivery_health_by_sender(timestamptz, integer, integer, integer, integer, integer, integer, text[]) to service_role';
  end if;
end;
$$;
