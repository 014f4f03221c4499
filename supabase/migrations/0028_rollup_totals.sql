-- Totals over every campaign and sender (issue 15): the readers that sum a period over all campaigns and senders
-- (hourly_volume, best_send_hours, read_heatmap, failures_by_error, delay_distribution, delay_percentiles,
-- delivery_health, delivery_report_by without grouping and so delivery_report, delivery_summary and
-- message_status_dashboard) read one row per bucket instead of one per bucket, campaign and sender (160 of them in
-- the 10M benchmark: 30 days of hour or quarter rows were 200-550 ms), and one row per bucket and error code or delay
-- bin instead of one per bucket, code, campaign and sender (since 0027 the delivery delays are kept per sender).
--
-- Kept at compaction, not by the triggers, so the write path pays nothing for them:
--   invariant: the totals of a bucket = the sum of the NON-pending rows of that bucket in broadcasts_rollup
--   (broadcasts_rollup_total) and of broadcasts_rollup_detail (broadcasts_rollup_total_detail).
-- Non-pending rows are only written by compaction and rebuild, under the rollups' advisory lock, and each of them
-- rewrites the totals of the buckets it wrote in the same statement or transaction: compact_main_rollup() and
-- compact_detail_rollup() fold a bucket's rows and replace its totals with their sum; rebuild_main_rollup()
-- recomputes a period and then its totals; compact_rollup_minutes() drops minute rows and
-- minute totals together; TRUNCATE empties them with the rows. A reader takes, for every piece of
-- broadcasts_rollup_pieces(), the totals of the piece plus the keyed rows still pending in it (partial index) plus
-- the rows at the period's edges, so the figures are exact at every moment, whatever compaction has folded yet.
--
-- compact_rollups() and rebuild_rollups() become thin sequences of per-rollup steps (0022's and 0026's bodies, once;
-- same locks: compaction skips when another holds the lock, rebuild waits for it and blocks writers).
-- The triggers and broadcasts_rollup_sql() are left as they are. Forward-only and re-runnable, like the others.

create table if not exists public.broadcasts_rollup_total (
  grain text not null check (grain in ('m', 'q', 'h', 'd')),
  bucket_start timestamptz not null,
  messages bigint not null,
  sent bigint not null,
  delivered bigint not null,
  read bigint not null,
  played bigint not null,
  failed bigint not null,
  failed_undelivered bigint not null,
  waiting bigint not null,
  delivery_seconds_sum numeric not null,
  delivery_samples bigint not null,
  read_minutes_sum numeric not null,
  read_samples bigint not null
);
create table if not exists public.broadcasts_rollup_total_detail (
  grain text not null check (grain in ('m', 'q', 'h', 'd')),
  bucket_start timestamptz not null,
  kind text not null check (kind in ('delivery', 'read', 'error_sent', 'error_failed')),
  code integer,
  title text,
  messages bigint not null,
  total numeric not null
);
create index if not exists broadcasts_rollup_total_bucket_idx on public.broadcasts_rollup_total (grain, bucket_start);
create index if not exists broadcasts_rollup_total_detail_bucket_idx
  on public.broadcasts_rollup_total_detail (grain, kind, bucket_start);
comment on table public.broadcasts_rollup_total is
  'broadcasts_rollup summed over campaigns and senders: per grain and bucket, the sum of its non-pending rows (kept by compact_rollups and rebuild_rollups; see 0028).';
comment on table public.broadcasts_rollup_total_detail is
  'broadcasts_rollup_detail summed over campaigns and senders: per grain, bucket, kind and code (error code or delay bin), the sum of its non-pending rows (see 0028).';

alter table public.broadcasts_rollup_total enable row level security;
alter table public.broadcasts_rollup_total_detail enable row level security;
do $$
begin
  if exists (select 1 from pg_roles where rolname = 'anon') then
    execute 'revoke all on public.broadcasts_rollup_total, public.broadcasts_rollup_total_detail from anon, authenticated';
  end if;
end;
$$;

-- ---------------------------------------------------------------------------------------------------------------
-- The steps of compact_rollups(), each called under its advisory lock. Each returns the number of rollup rows it
-- removed. Each also takes the lock itself (at once when the caller holds it: advisory locks are re-entrant), so
-- a step called on its own waits for a running compaction instead of folding part of the same buckets.

-- Drops minute rows (and minute totals) older than `keep_minutes`, moving minute_horizon forward (see 0022).
create or replace function public.compact_rollup_minutes(keep_minutes interval)
returns bigint
language plpgsql
volatile
set search_path = public, pg_temp
as $$
declare
  horizon timestamptz := date_bin('15 minutes', now() - keep_minutes, timestamptz '2000-01-01 00:00+00');
  removed bigint := 0;
  n bigint;
begin
  perform pg_advisory_xact_lock(hashtext('public.broadcasts_rollup'));
  update public.broadcasts_rollup_state set minute_horizon = horizon where minute_horizon < horizon;
  if found then
    delete from public.broadcasts_rollup where grain = 'm' and bucket_start < horizon;
    get diagnostics n = row_count;
    removed := removed + n;
    delete from public.broadcasts_rollup_detail where grain = 'm' and bucket_start < horizon;
    get diagnostics n = row_count;
    removed := removed + n;
    delete from public.broadcasts_rollup_total where grain = 'm' and bucket_start < horizon;
    delete from public.broadcasts_rollup_total_detail where grain = 'm' and bucket_start < horizon;
  end if;
  return removed;
end;
$$;

-- Folds the pending rows of at most `max_buckets` buckets of broadcasts_rollup, oldest first, into one row per key,
-- and replaces those buckets' totals by the sum of what they now hold, in the same statement.
create or replace function public.compact_main_rollup(max_buckets integer)
returns bigint
language plpgsql
volatile
set search_path = public, pg_temp
as $$
declare
  n bigint;
begin
  perform pg_advisory_xact_lock(hashtext('public.broadcasts_rollup'));
  with touched as (
    select distinct grain, bucket_start from public.broadcasts_rollup where pending
     order by bucket_start, grain limit max_buckets
  ),
  gone as (
    delete from public.broadcasts_rollup r using touched t
     where r.grain = t.grain and r.bucket_start = t.bucket_start
    returning r.*
  ),
  folded_rows as (
    insert into public.broadcasts_rollup (grain, bucket_start, campaign, sender_key, sender_label, messages, sent,
           delivered, read, played, failed, failed_undelivered, waiting, delivery_seconds_sum, delivery_samples,
           read_minutes_sum, read_samples, pending)
    select grain, bucket_start, campaign, sender_key, sender_label, sum(messages), sum(sent), sum(delivered),
           sum(read), sum(played), sum(failed), sum(failed_undelivered), sum(waiting), sum(delivery_seconds_sum),
           sum(delivery_samples), sum(read_minutes_sum), sum(read_samples), false
      from gone
     group by grain, bucket_start, campaign, sender_key, sender_label
    having (sum(messages), sum(sent), sum(delivered), sum(read), sum(played), sum(failed), sum(failed_undelivered),
            sum(waiting), sum(delivery_seconds_sum), sum(delivery_samples), sum(read_minutes_sum),
            sum(read_samples)) <> (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    returning 1
  ),
  -- No unique key on the totals: the old rows of a touched bucket are deleted and its new one inserted by the same
  -- statement (neither sees the other's rows).
  old_totals as (
    delete from public.broadcasts_rollup_total o using touched t
     where o.grain = t.grain and o.bucket_start = t.bucket_start
  ),
  new_totals as (
    insert into public.broadcasts_rollup_total (grain, bucket_start, messages, sent, delivered, read, played, failed,
           failed_undelivered, waiting, delivery_seconds_sum, delivery_samples, read_minutes_sum, read_samples)
    select grain, bucket_start, sum(messages), sum(sent), sum(delivered), sum(read), sum(played), sum(failed),
           sum(failed_undelivered), sum(waiting), sum(delivery_seconds_sum), sum(delivery_samples),
           sum(read_minutes_sum), sum(read_samples)
      from gone
     group by grain, bucket_start
    having (sum(messages), sum(sent), sum(delivered), sum(read), sum(played), sum(failed), sum(failed_undelivered),
            sum(waiting), sum(delivery_seconds_sum), sum(delivery_samples), sum(read_minutes_sum),
            sum(read_samples)) <> (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
  )
  select (select count(*) from gone) - (select count(*) from folded_rows) into n;
  return n;
end;
$$;

-- The same for broadcasts_rollup_detail; the bucket's detail totals are replaced with the fold.
create or replace function public.compact_detail_rollup(max_buckets integer)
returns bigint
language plpgsql
volatile
set search_path = public, pg_temp
as $$
declare
  n bigint;
begin
  perform pg_advisory_xact_lock(hashtext('public.broadcasts_rollup'));
  with touched as (
    select distinct grain, bucket_start from public.broadcasts_rollup_detail where pending
     order by bucket_start, grain limit max_buckets
  ),
  gone as (
    delete from public.broadcasts_rollup_detail r using touched t
     where r.grain = t.grain and r.bucket_start = t.bucket_start
    returning r.*
  ),
  folded_rows as (
    insert into public.broadcasts_rollup_detail (grain, bucket_start, campaign, sender_key, kind, code, title,
           messages, total, pending)
    select grain, bucket_start, campaign, sender_key, kind, code, title, sum(messages), sum(total), false
      from gone
     group by grain, bucket_start, campaign, sender_key, kind, code, title
    having sum(messages) <> 0 or sum(total) <> 0
    returning 1
  ),
  old_totals as (
    delete from public.broadcasts_rollup_total_detail o using touched t
     where o.grain = t.grain and o.bucket_start = t.bucket_start
  ),
  new_totals as (
    insert into public.broadcasts_rollup_total_detail (grain, bucket_start, kind, code, title, messages, total)
    select grain, bucket_start, kind, code, title, sum(messages), sum(total)
      from gone
     group by grain, bucket_start, kind, code, title
    having sum(messages) <> 0 or sum(total) <> 0
  )
  select (select count(*) from gone) - (select count(*) from folded_rows) into n;
  return n;
end;
$$;

-- The sweeper's upkeep (0022): one at a time (advisory lock; a second caller returns 0 at once, writers are never
-- blocked), then every rollup's steps. Returns the number of rows removed.
create or replace function public.compact_rollups(keep_minutes interval default '8 days', max_buckets integer default 5000)
returns bigint
language plpgsql
volatile
set search_path = public, pg_temp
as $$
begin
  if not pg_try_advisory_xact_lock(hashtext('public.broadcasts_rollup')) then
    return 0;
  end if;
  return public.compact_rollup_minutes(keep_minutes)
       + public.compact_main_rollup(max_buckets)
       + public.compact_detail_rollup(max_buckets)
       + public.compact_pricing_rollup(max_buckets);
end;
$$;

-- ---------------------------------------------------------------------------------------------------------------
-- The steps of rebuild_rollups() over [lo, hi) (whole UTC days), each called under its locks; each returns the number
-- of rollup rows it wrote (totals not counted).

-- Rewrites the totals of [lo, hi) from the non-pending rows there (after a rebuild of the period, all of them).
create or replace function public.rebuild_rollup_totals(lo timestamptz, hi timestamptz)
returns void
language plpgsql
volatile
set search_path = public, pg_temp
as $$
begin
  perform pg_advisory_xact_lock(hashtext('public.broadcasts_rollup'));
  delete from public.broadcasts_rollup_total
   where grain in ('m', 'q', 'h', 'd') and bucket_start >= lo and bucket_start < hi;
  insert into public.broadcasts_rollup_total (grain, bucket_start, messages, sent, delivered, read, played, failed,
         failed_undelivered, waiting, delivery_seconds_sum, delivery_samples, read_minutes_sum, read_samples)
  select grain, bucket_start, sum(messages), sum(sent), sum(delivered), sum(read), sum(played), sum(failed),
         sum(failed_undelivered), sum(waiting), sum(delivery_seconds_sum), sum(delivery_samples),
         sum(read_minutes_sum), sum(read_samples)
    from public.broadcasts_rollup
   where not pending and grain in ('m', 'q', 'h', 'd') and bucket_start >= lo and bucket_start < hi
   group by grain, bucket_start
  having (sum(messages), sum(sent), sum(delivered), sum(read), sum(played), sum(failed), sum(failed_undelivered),
          sum(waiting), sum(delivery_seconds_sum), sum(delivery_samples), sum(read_minutes_sum),
          sum(read_samples)) <> (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
  delete from public.broadcasts_rollup_total_detail
   where grain in ('m', 'q', 'h', 'd') and bucket_start >= lo and bucket_start < hi;
  insert into public.broadcasts_rollup_total_detail (grain, bucket_start, kind, code, title, messages, total)
  select grain, bucket_start, kind, code, title, sum(messages), sum(total)
    from public.broadcasts_rollup_detail
   where not pending and grain in ('m', 'q', 'h', 'd') and bucket_start >= lo and bucket_start < hi
   group by grain, bucket_start, kind, code, title
  having sum(messages) <> 0 or sum(total) <> 0;
end;
$$;

-- broadcasts_rollup and broadcasts_rollup_detail over [lo, hi), from the message rows (0022's rebuild).
create or replace function public.rebuild_main_rollup(lo timestamptz, hi timestamptz)
returns bigint
language plpgsql
volatile
set search_path = public, pg_temp
as $$
declare
  source text;
  main_rows bigint;
  detail_rows bigint;
begin
  -- As rebuild_rollups() does (at once when it holds them): writers wait, and so does compaction.
  lock table public.broadcasts_messages in share mode;
  perform pg_advisory_xact_lock(hashtext('public.broadcasts_rollup'));
  delete from public.broadcasts_rollup
   where grain in ('m', 'q', 'h', 'd') and bucket_start >= lo and bucket_start < hi;
  delete from public.broadcasts_rollup_detail
   where grain in ('m', 'q', 'h', 'd') and bucket_start >= lo and bucket_start < hi;
  source := format('(select 1 as sign, m.* from public.broadcasts_messages m where coalesce(m.sent_at, m.failed_at) >= %L and coalesce(m.sent_at, m.failed_at) < %L)', lo, hi);
  execute 'insert into public.broadcasts_rollup (grain, bucket_start, campaign, sender_key, sender_label, messages,
             sent, delivered, read, played, failed, failed_undelivered, waiting, delivery_seconds_sum,
             delivery_samples, read_minutes_sum, read_samples, pending) select *, false from ('
          || public.broadcasts_rollup_sql('main', source, 'mq') || ') r';
  get diagnostics main_rows = row_count;
  -- Failures are counted by failure time too ('error_failed'), which can lie outside the sent-time range.
  source := format('(select 1 as sign, m.* from public.broadcasts_messages m where (m.sent_at >= %1$L and m.sent_at < %2$L) or (m.failed_at >= %1$L and m.failed_at < %2$L))', lo, hi);
  execute 'insert into public.broadcasts_rollup_detail (grain, bucket_start, campaign, sender_key, kind, code, title,
             messages, total, pending) select *, false from ('
          || public.broadcasts_rollup_sql('detail', source, 'mq') || ') r where r.bucket_start >= $1 and r.bucket_start < $2'
    using lo, hi;
  get diagnostics detail_rows = row_count;
  perform public.rebuild_rollup_totals(lo, hi);
  return main_rows + detail_rows;
end;
$$;

-- Recomputes the rollups of [range_start, range_end) (widened to whole UTC days; default: everything) from the
-- message rows (0022). Writers wait while it runs (SHARE lock), and so does compaction (advisory lock).
create or replace function public.rebuild_rollups(range_start timestamptz default null, range_end timestamptz default null)
returns bigint
language plpgsql
volatile
set search_path = public, pg_temp
as $$
declare
  lo timestamptz;
  hi timestamptz;
begin
  -- Whole UTC days: the coarsest rollup rows cover a day.
  lo := case when range_start is null then '-infinity'::timestamptz
             else date_bin('1 day', range_start, timestamptz '2000-01-01 00:00+00') end;
  hi := case when range_end is null then 'infinity'::timestamptz
             when date_bin('1 day', range_end, timestamptz '2000-01-01 00:00+00') = range_end then range_end
             else date_bin('1 day', range_end, timestamptz '2000-01-01 00:00+00') + interval '1 day' end;
  lock table public.broadcasts_messages in share mode;
  perform pg_advisory_xact_lock(hashtext('public.broadcasts_rollup'));
  return public.rebuild_main_rollup(lo, hi) + public.rebuild_pricing_rollup(lo, hi);
end;
$$;

-- TRUNCATE of the messages (a start-over) empties the totals too. A trigger of its own, beside 0022's, whose function
-- is left as it is.
create or replace function public.broadcasts_rollup_total_after_truncate()
returns trigger
language plpgsql
security definer
set search_path = public, pg_temp
as $$
begin
  truncate public.broadcasts_rollup_total, public.broadcasts_rollup_total_detail;
  return null;
end;
$$;

drop trigger if exists broadcasts_messages_rollup_total_truncate on public.broadcasts_messages;
create trigger broadcasts_messages_rollup_total_truncate
  after truncate on public.broadcasts_messages
  for each statement execute function public.broadcasts_rollup_total_after_truncate();

-- ---------------------------------------------------------------------------------------------------------------
-- The readers.

-- The measures of a period (by coalesce(sent_at, failed_at)) over every campaign and sender, unsummed (a bucket may
-- have several rows): per piece of broadcasts_rollup_pieces(), its totals and its still-pending keyed rows, and the
-- edges from the message rows (through rollup_range(), so they are computed in one place).
create or replace function public.rollup_total_range(range_start timestamptz, range_end timestamptz, coarsest text default 'd')
returns table (
  bucket_start timestamptz, messages bigint, sent bigint, delivered bigint, read bigint, played bigint, failed bigint,
  failed_undelivered bigint, waiting bigint, delivery_seconds_sum numeric, delivery_samples bigint,
  read_minutes_sum numeric, read_samples bigint)
language plpgsql stable
set search_path = public, pg_temp
as $$
declare
  p record;
begin
  for p in select * from public.broadcasts_rollup_pieces(range_start, range_end, coarsest) loop
    if p.source = 'rows' then
      return query
        select r.bucket_start, r.messages, r.sent, r.delivered, r.read, r.played, r.failed, r.failed_undelivered,
               r.waiting, r.delivery_seconds_sum, r.delivery_samples, r.read_minutes_sum, r.read_samples
          from public.rollup_range(p.piece_start, p.piece_end, 'm') r;
    else
      return query
        select t.bucket_start, t.messages, t.sent, t.delivered, t.read, t.played, t.failed, t.failed_undelivered,
               t.waiting, t.delivery_seconds_sum, t.delivery_samples, t.read_minutes_sum, t.read_samples
          from public.broadcasts_rollup_total t
         where t.grain = p.source and t.bucket_start >= p.piece_start and t.bucket_start < p.piece_end
        union all
        select r.bucket_start, r.messages, r.sent, r.delivered, r.read, r.played, r.failed, r.failed_undelivered,
               r.waiting, r.delivery_seconds_sum, r.delivery_samples, r.read_minutes_sum, r.read_samples
          from public.broadcasts_rollup r
         where r.pending and r.grain = p.source and r.bucket_start >= p.piece_start and r.bucket_start < p.piece_end;
    end if;
  end loop;
end;
$$;

-- The detail rows of one kind for a period over every campaign and sender (the delay bins by sent time, 'error_sent'
-- by sent time, 'error_failed' by failure time), unsummed, in the same way.
create or replace function public.rollup_total_detail_range(
  range_start timestamptz, range_end timestamptz, detail_kind text, coarsest text default 'd')
returns table (bucket_start timestamptz, code integer, title text, messages bigint, total numeric)
language plpgsql stable
set search_path = public, pg_temp
as $$
declare
  p record;
begin
  if detail_kind is null or detail_kind not in ('delivery', 'read', 'error_sent', 'error_failed') then
    raise exception 'rollup_total_detail_range: kind must be delivery, read, error_sent or error_failed'
      using errcode = '22023';
  end if;
  for p in select * from public.broadcasts_rollup_pieces(range_start, range_end, coarsest) loop
    if p.source = 'rows' then
      return query
        select d.bucket_start, d.code, d.title, d.messages, d.total
          from public.rollup_detail_range(p.piece_start, p.piece_end, detail_kind, 'm') d;
    else
      -- The pending rows through their partial index, the kind filtered after: with the kind in the same scan, a
      -- planner without statistics on `pending` (a freshly rebuilt table) picks the (grain, kind, bucket_start)
      -- index and reads every folded error row of the period (seen in the 1M benchmark's plans).
      return query
        with pending as materialized (
          select r.bucket_start, r.kind, r.code, r.title, r.messages, r.total
            from public.broadcasts_rollup_detail r
           where r.pending and r.grain = p.source and r.bucket_start >= p.piece_start and r.bucket_start < p.piece_end
        )
        select t.bucket_start, t.code, t.title, t.messages, t.total
          from public.broadcasts_rollup_total_detail t
         where t.grain = p.source and t.kind = detail_kind
           and t.bucket_start >= p.piece_start and t.bucket_start < p.piece_end
        union all
        select r.bucket_start, r.code, r.title, r.messages, r.total from pending r where r.kind = detail_kind;
    end if;
  end loop;
end;
$$;

-- ---------------------------------------------------------------------------------------------------------------
-- The readers that sum over every campaign and sender, on the totals: 0022's bodies with rollup_range() and the
-- error rows of rollup_detail_range() replaced; same signatures, columns and figures.

-- delivery_report_by() without grouping (delivery_report's overall row, and so delivery_summary and the view
-- message_status_dashboard) sums the totals; grouped by sender or campaign it reads the keyed rows as before. The
-- branch not taken is skipped by a one-time filter on the arguments.
create or replace function public.delivery_report_by(
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
  select case when by_sender then r.sender_label end,
         case when by_campaign then coalesce(r.campaign, '(none)') end,
         sum(r.messages)::bigint,
         sum(r.sent)::bigint,
         sum(r.delivered)::bigint,
         sum(r.read)::bigint,
         sum(r.failed)::bigint,
         round(100.0 * sum(r.delivered) / nullif(sum(r.sent), 0), 2),
         round(100.0 * sum(r.read) / nullif(sum(r.delivered), 0), 2),
         round(sum(r.delivery_seconds_sum) / nullif(sum(r.delivery_samples), 0), 3),
         round(sum(r.read_minutes_sum) / nullif(sum(r.read_samples), 0), 3)
    from (select k.sender_label, k.campaign, k.messages, k.sent, k.delivered, k.read, k.failed,
                 k.delivery_seconds_sum, k.delivery_samples, k.read_minutes_sum, k.read_samples
            from public.rollup_range(period_start, period_end) k
           where by_sender or by_campaign
          union all
          select null, null, t.messages, t.sent, t.delivered, t.read, t.failed, t.delivery_seconds_sum,
                 t.delivery_samples, t.read_minutes_sum, t.read_samples
            from public.rollup_total_range(period_start, period_end) t
           where not (by_sender or by_campaign)) r
   group by 1, 2
  having sum(r.messages) > 0
   order by 1 nulls first, 3 desc, 2;
$$;

create or replace function public.hourly_volume(period_start timestamptz, period_end timestamptz)
returns table (hour timestamptz, sent bigint, delivered bigint, read bigint, failed bigint)
language sql stable
set search_path = public, pg_temp
set timezone = 'UTC'
as $$
  select date_trunc('hour', r.bucket_start),
         sum(r.sent)::bigint, sum(r.delivered)::bigint, sum(r.read)::bigint, sum(r.failed)::bigint
    from public.rollup_total_range(period_start, period_end, 'h') r
   group by 1
  having sum(r.messages) > 0
   order by 1;
$$;

create or replace function public.best_send_hours(
  period_start timestamptz, period_end timestamptz, min_delivered integer default 20)
returns table (hour_of_day integer, delivered bigint, read bigint, read_rate_percent numeric)
language sql stable
set search_path = public, pg_temp
as $$
  select extract(hour from b.bucket_start at time zone 'UTC')::integer,
         sum(b.delivered)::bigint,
         sum(b.read)::bigint,
         round(100.0 * sum(b.read) / nullif(sum(b.delivered), 0), 2)
    from (select r.bucket_start, sum(r.sent) as sent, sum(r.delivered) as delivered, sum(r.read) as read
            from public.rollup_total_range(period_start, period_end, 'h') r
           group by r.bucket_start) b
   group by 1
  having sum(b.sent) > 0 and sum(b.delivered) >= min_delivered
   order by 4 desc nulls last, 2 desc, 1;
$$;

create or replace function public.read_heatmap(period_start timestamptz, period_end timestamptz, time_zone text default 'UTC')
returns table (weekday integer, hour_of_day integer, delivered bigint, read bigint, read_rate_percent numeric)
language sql stable
set search_path = public, pg_temp
as $$
  -- Summed per bucket first: one time-zone conversion per quarter.
  select extract(isodow from b.bucket_start at time zone time_zone)::integer,
         extract(hour from b.bucket_start at time zone time_zone)::integer,
         sum(b.delivered)::bigint,
         sum(b.read)::bigint,
         round(100.0 * sum(b.read) / nullif(sum(b.delivered), 0), 2)
    from (select r.bucket_start, sum(r.sent) as sent, sum(r.delivered) as delivered, sum(r.read) as read
            from public.rollup_total_range(period_start, period_end, 'q') r
           group by r.bucket_start) b
   group by 1, 2
  having sum(b.sent) > 0
   order by 1, 2;
$$;

create or replace function public.failures_by_error(period_start timestamptz, period_end timestamptz)
returns table (error_code integer, error_title text, messages bigint, share_percent numeric)
language sql stable
set search_path = public, pg_temp
as $$
  with codes as (
    select d.code, d.title, sum(d.messages) as n
      from public.rollup_total_detail_range(period_start, period_end, 'error_failed') d
     group by d.code, d.title
    having sum(d.messages) > 0
  )
  select c.code, min(c.title), sum(c.n)::bigint, round(100.0 * sum(c.n) / sum(sum(c.n)) over (), 2)
    from codes c
   group by c.code
   order by 3 desc, 1;
$$;

-- The delay chart and percentiles (0022's bodies) on the delay bins' totals.
create or replace function public.delay_distribution(period_start timestamptz, period_end timestamptz)
returns table (kind text, bucket_order integer, bucket text, messages bigint)
language sql stable
set search_path = public, pg_temp
as $$
  with bins as materialized (
    select k.kind, (public.broadcasts_latency_bounds())[d.code] as lower_seconds, sum(d.messages) as n
      from (values ('delivery'), ('read')) k(kind)
     cross join lateral public.rollup_total_detail_range(period_start, period_end, k.kind) d
     group by 1, 2
  ),
  buckets(bucket_order, bucket, upper_seconds) as (
    values (1, '< 5 s', 5), (2, '5-30 s', 30), (3, '30 s-2 min', 120), (4, '2-10 min', 600),
           (5, '10-60 min', 3600), (6, '1-6 h', 21600), (7, '6-24 h', 86400), (8, '> 24 h', null)
  ),
  kinds(kind) as (values ('delivery'), ('read'))
  select k.kind, b.bucket_order, b.bucket,
         coalesce((select sum(n) from bins d
                    where d.kind = k.kind
                      and d.lower_seconds >= coalesce((select max(p.upper_seconds) from buckets p where p.bucket_order < b.bucket_order), -1e12)
                      and (b.upper_seconds is null or d.lower_seconds < b.upper_seconds)), 0)::bigint
    from kinds k cross join buckets b
   order by 1, 2;
$$;

create or replace function public.delay_percentiles(period_start timestamptz, period_end timestamptz)
returns table (delivery_p50_seconds numeric, delivery_p90_seconds numeric, read_p50_minutes numeric, read_p90_minutes numeric)
language sql stable
set search_path = public, pg_temp
as $$
  with bins as (
    select k.kind, d.code, sum(d.messages)::bigint as n, sum(d.total) as total
      from (values ('delivery'), ('read')) k(kind)
     cross join lateral public.rollup_total_detail_range(period_start, period_end, k.kind) d
     group by 1, 2
  ),
  h as (
    select kind, array_agg(n order by code) as counts, array_agg(total order by code) as totals from bins group by kind
  )
  select round(public.rollup_percentile(0.5, d.counts, d.totals), 3),
         round(public.rollup_percentile(0.9, d.counts, d.totals), 3),
         round(public.rollup_percentile(0.5, r.counts, r.totals) / 60, 3),
         round(public.rollup_percentile(0.9, r.counts, r.totals) / 60, 3)
    from (select 1) one
    left join h d on d.kind = 'delivery'
    left join h r on r.kind = 'read';
$$;

-- The sweeper's alarm figures: its cohorts and its delay histogram are summed over every campaign and sender too.
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
  delivery as (
    select coalesce(sum(c.sent), 0)::bigint as sent,
           coalesce(sum(c.delivered), 0)::bigint as delivered,
           coalesce(sum(c.failed_undelivered), 0)::bigint as failed,
           sum(c.delivery_seconds_sum) / nullif(sum(c.delivery_samples), 0) as avg_seconds,
           coalesce(sum(c.delivery_samples), 0)::bigint as samples
      from bounds b cross join lateral public.rollup_total_range(b.d_from, b.d_to) c
  ),
  latency as (
    select public.rollup_percentile(0.5, array_agg(n order by code), array_agg(total order by code)) as median_seconds
      from (select d.code, sum(d.messages)::bigint as n, sum(d.total) as total
              from bounds b cross join lateral public.rollup_total_detail_range(b.d_from, b.d_to, 'delivery') d
             group by d.code) h
  ),
  top_error as (
    select e.code, min(e.title) as title, sum(e.n)::bigint as n
      from (select d.code, d.title, sum(d.messages) as n
              from bounds b cross join lateral public.rollup_total_detail_range(b.d_from, b.d_to, 'error_sent') d
             group by d.code, d.title
            having sum(d.messages) > 0) e
     group by e.code
     order by sum(e.n) desc, e.code
     limit 1
  ),
  reading as (
    select coalesce(sum(c.delivered), 0)::bigint as delivered, coalesce(sum(c.read), 0)::bigint as read
      from bounds b cross join lateral public.rollup_total_range(b.r_from, b.r_to) c
  ),
  waiting as (
    select coalesce(sum(c.sent), 0)::bigint as sent, coalesce(sum(c.waiting), 0)::bigint as waiting
      from bounds b cross join lateral public.rollup_total_range(b.u_from, b.u_to) c
  )
  select b.t,
         d.sent, d.delivered, d.failed,
         case when d.sent > 0 then round(100.0 * d.delivered / d.sent, 2) end,
         case when d.sent > 0 then round(100.0 * d.failed / d.sent, 2) end,
         e.code, e.title, coalesce(e.n, 0),
         round(d.avg_seconds, 3),
         round(l.median_seconds, 3),
         d.samples,
         r.delivered, r.read,
         case when r.delivered > 0 then round(100.0 * r.read / r.delivered, 2) end,
         w.sent, w.waiting,
         case when w.sent > 0 then round(100.0 * w.waiting / w.sent, 2) end
    from bounds b
    cross join delivery d
    cross join latency l
    cross join reading r
    cross join waiting w
    left join top_error e on true;
$$;

do $$
declare
  fn text;
begin
  foreach fn in array array[
    'compact_rollup_minutes(interval)', 'compact_main_rollup(integer)', 'compact_detail_rollup(integer)',
    'compact_rollups(interval, integer)', 'rebuild_rollup_totals(timestamptz, timestamptz)',
    'rebuild_main_rollup(timestamptz, timestamptz)', 'rebuild_rollups(timestamptz, timestamptz)',
    'broadcasts_rollup_total_after_truncate()', 'rollup_total_range(timestamptz, timestamptz, text)',
    'rollup_total_detail_range(timestamptz, timestamptz, text, text)',
    'delivery_report_by(timestamptz, timestamptz, boolean, boolean)',
    'hourly_volume(timestamptz, timestamptz)', 'best_send_hours(timestamptz, timestamptz, integer)',
    'read_heatmap(timestamptz, timestamptz, text)', 'failures_by_error(timestamptz, timestamptz)',
    'delay_distribution(timestamptz, timestamptz)', 'delay_percentiles(timestamptz, timestamptz)',
    'delivery_health(timestamptz, integer, integer, integer, integer, integer, integer)']
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

-- The totals of the rollups already there (an upgrade), recomputed at every run under the rollups' lock: the
-- invariant holds afterwards whatever held before.
do $$
begin
  perform pg_advisory_xact_lock(hashtext('public.broadcasts_rollup'));
  perform public.rebuild_rollup_totals('-infinity', 'infinity');
end;
$$;
