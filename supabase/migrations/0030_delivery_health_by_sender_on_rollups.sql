-- delivery_health_by_sender (0024) on the rollups (issue 15): it read each window's message rows, as delivery_health
-- did before 0022, so the sweeper's per-sender call grew with traffic (1.2 s for delivery_health on the rows of 10M
-- messages). Now it reads the rollups' rows of the listed senders, as delivery_health does, with the same windows,
-- figures and row order.
--
-- A sender is the rollups' sender key: the message's phone number id (Meta's metadata.phone_number_id), else its
-- AiSensy project id. 0024 counted a message under every listed id it carried; the two differ only for a message that
-- carries both (one that came through both a Meta webhook and AiSensy's), which now counts under its phone number id
-- alone. The median delivery time comes from the per-sender delay histogram (0027): within one bin of the rows'
-- median, as delivery_health's is.
--
-- Forward-only and re-runnable, like the others.

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
  delivery as (
    select c.sender_key as sender_id,
           sum(c.sent)::bigint as sent,
           sum(c.delivered)::bigint as delivered,
           sum(c.failed_undelivered)::bigint as failed,
           sum(c.delivery_seconds_sum) / nullif(sum(c.delivery_samples), 0) as avg_seconds,
           sum(c.delivery_samples)::bigint as samples
      from bounds b cross join lateral public.rollup_range(b.d_from, b.d_to) c
     where c.sender_key in (select id from listed)
     group by c.sender_key
  ),
  latency as (
    select h.sender_key as sender_id,
           public.rollup_percentile(0.5, array_agg(h.n order by h.code), array_agg(h.total order by h.code))
             as median_seconds
      from (select d.sender_key, d.code, sum(d.messages)::bigint as n, sum(d.total) as total
              from bounds b cross join lateral public.rollup_detail_range(b.d_from, b.d_to, 'delivery') d
             where d.sender_key in (select id from listed)
             group by d.sender_key, d.code) h
     group by h.sender_key
  ),
  -- delivery_health's rule per sender: the error codes of the failed, never delivered messages of the cohort, the
  -- most frequent first, then the lowest code.
  top_error as (
    select distinct on (e.sender_key) e.sender_key as sender_id, e.code, min(e.title) as title, sum(e.n)::bigint as n
      from (select d.sender_key, d.code, d.title, sum(d.messages) as n
              from bounds b cross join lateral public.rollup_detail_range(b.d_from, b.d_to, 'error_sent') d
             where d.sender_key in (select id from listed)
             group by d.sender_key, d.code, d.title
            having sum(d.messages) > 0) e
     group by e.sender_key, e.code
     order by e.sender_key, sum(e.n) desc, e.code
  ),
  reading as (
    select c.sender_key as sender_id, sum(c.delivered)::bigint as delivered, sum(c.read)::bigint as read
      from bounds b cross join lateral public.rollup_range(b.r_from, b.r_to) c
     where c.sender_key in (select id from listed)
     group by c.sender_key
  ),
  waiting as (
    select c.sender_key as sender_id, sum(c.sent)::bigint as sent, sum(c.waiting)::bigint as waiting
      from bounds b cross join lateral public.rollup_range(b.u_from, b.u_to) c
     where c.sender_key in (select id from listed)
     group by c.sender_key
  )
  select l.id,
         b.t,
         coalesce(d.sent, 0), coalesce(d.delivered, 0), coalesce(d.failed, 0),
         case when d.sent > 0 then round(100.0 * d.delivered / d.sent, 2) end,
         case when d.sent > 0 then round(100.0 * d.failed / d.sent, 2) end,
         e.code, e.title, coalesce(e.n, 0),
         round(d.avg_seconds, 3),
         round(lt.median_seconds, 3),
         coalesce(d.samples, 0),
         coalesce(r.delivered, 0), coalesce(r.read, 0),
         case when r.delivered > 0 then round(100.0 * r.read / r.delivered, 2) end,
         coalesce(w.sent, 0), coalesce(w.waiting, 0),
         case when w.sent > 0 then round(100.0 * w.waiting / w.sent, 2) end
    from listed l
    cross join bounds b
    left join delivery d on d.sender_id = l.id
    left join latency lt on lt.sender_id = l.id
    left join reading r on r.sender_id = l.id
    left join waiting w on w.sender_id = l.id
    left join top_error e on e.sender_id = l.id
   order by l.position;
$$;

comment on function public.delivery_health_by_sender(timestamptz, integer, integer, integer, integer, integer, integer, text[]) is
  'delivery_health''s figures for each listed sender (its phone number id, else its AiSensy project id), from the rollups; the sweeper publishes them with a Sender dimension (docs/alarms.md).';

-- Upgrade from 0026: the buckets written before 0027 hold the delivery delays without their sender (one overall row
-- per bin), so a sender's median would only see the deliveries since the upgrade, and an update since then of an
-- older message (a late `sent` moves its delay to another bin) subtracts under the sender what was added overall. The
-- delivery delays of the last two UTC days and today (the longest delivery cohort is a 24-hour window plus 24 hours
-- of grace) are recomputed once from the rows, with their totals (0028). Writers wait while it runs (SHARE lock): it
-- reads those days' messages, about 10 s per million. Nothing to do on a new database, or once done.
do $$
declare
  lo constant timestamptz := date_bin('1 day', now() - interval '2 days', timestamptz '2000-01-01 00:00+00');
begin
  if not exists (select 1 from public.broadcasts_rollup_detail
                  where kind = 'delivery' and sender_key is null and bucket_start >= lo) then
    return;
  end if;
  lock table public.broadcasts_messages in share mode;
  perform pg_advisory_xact_lock(hashtext('public.broadcasts_rollup'));
  delete from public.broadcasts_rollup_detail
   where grain in ('m', 'q', 'h', 'd') and kind = 'delivery' and bucket_start >= lo;
  execute 'insert into public.broadcasts_rollup_detail (grain, bucket_start, campaign, sender_key, kind, code, title,
             messages, total, pending)
           select *, false from (' || public.broadcasts_rollup_sql('detail',
             format('(select 1 as sign, m.* from public.broadcasts_messages m where m.sent_at >= %L)', lo), 'mq')
          || ') r where r.kind = ''delivery'' and r.bucket_start >= $1'
    using lo;
  perform public.rebuild_rollup_totals(lo, 'infinity');
end;
$$;
