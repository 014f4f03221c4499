-- Rollups (issue 15, item 2): the report and alarm functions read aggregates whose size does not grow with messages.
--
-- Four grains, in the same two tables (docs/design.md#rollups): a UTC day ('d'), an hour ('h'), a quarter of an hour
-- ('q') and a minute ('m'). A period is read coarsest first: its whole days, then the whole hours at its ends, the
-- whole quarters, the whole minutes, and the seconds before its first and after its last whole minute from the
-- message rows (at most two minutes of rows whatever the period). Quarters because a report's hours and days are in
-- the reader's time zone: India is UTC+05:30 and Nepal +05:45. Minutes because the alarms' windows end at now()
-- minus a grace in minutes; they are kept for eight days (the longest alarm window, 168 h plus 24 h of grace, and
-- the 7-day reports; compact_rollups() moves minute_horizon), older partial quarters at a period's ends are read
-- from the rows (at most 15 minutes at each end).
--
-- Exact and order-independent: statement-level triggers on broadcasts_messages, with transition tables, add for
-- every inserted row its contribution and for every updated row its new contribution minus its old one (a `sent`
-- that arrives after a `delivered` moves the message to an earlier bucket: -1 there, +1 here). Every measure is a
-- sum, so the final rollup is the sum over the rows' final states, whatever the order, batching or concurrency of
-- the updates. A batch upsert or a bulk insert of millions of rows costs one aggregate per statement.
--
-- Append-only: a trigger only inserts (rows marked `pending`), it never updates a rollup row, so concurrent
-- processors writing the same campaign in the same minute take no row locks on the rollups and cannot deadlock on
-- them. Readers sum whatever rows a bucket has. compact_rollups() (called by the sweeper) folds each touched
-- bucket's rows into one per key.
--
-- Deletes do not change rollups: retention and erasure delete or anonymise message rows, and the reports of old
-- periods keep their figures (no DELETE trigger; an anonymising UPDATE changes no rollup key or measure). Only the
-- edges of a period read rows, so a period of whole quarters (every day in any time zone, every hour) is computed
-- from rollups alone. TRUNCATE empties the rollups too (a start-over: tests, the benchmark).
--
-- Latency percentiles come from a histogram (broadcasts_latency_bounds: 1-second bins below a minute, then bins
-- 2^(1/8) ~ 9 % wide, plus the delay chart's own bounds) holding the count and the sum of the delays of each bin:
-- a bin's delays are estimated by their mean, so a percentile is exact when the delays at and around its rank share
-- a bin with equal values (whole seconds below a minute) and otherwise off by at most its bin's width (<= 1 s
-- below a minute, <= 9 % above). Means, counts and rates are exact.
--
-- Rebuildable: rebuild_rollups(from, to) recomputes a period from the message rows (npm run rollups:rebuild).
-- Forward-only and re-runnable, like the others.

create table if not exists public.broadcasts_rollup (
  grain text not null check (grain in ('m', 'q', 'h', 'd')),
  bucket_start timestamptz not null,
  campaign text,
  sender_key text,                     -- coalesce(sender_phone_number_id, sender_project_id): one filter per sender
  sender_label text not null,          -- broadcasts_sender_label(...), what delivery_report_by shows
  messages bigint not null,            -- rows whose period time, coalesce(sent_at, failed_at), is in the bucket
  sent bigint not null,
  delivered bigint not null,
  read bigint not null,
  played bigint not null,
  failed bigint not null,              -- failed_at set (delivery_report's "failed")
  failed_undelivered bigint not null,  -- sent, failed and never delivered (delivery_health's "failed")
  waiting bigint not null,             -- sent, neither delivered nor failed
  delivery_seconds_sum numeric not null,
  delivery_samples bigint not null,    -- reported sent and delivered times, neither inferred
  read_minutes_sum numeric not null,
  read_samples bigint not null,        -- reported delivered and read times, neither inferred
  pending boolean not null default true
);

-- Per bucket, per kind: the delivery and read delay histograms ('delivery', 'read': code = bin, total = sum of the
-- delays in seconds) and the failures by error code ('error_sent': sent, failed, never delivered, by sent time;
-- 'error_failed': every failure, by failure time, as failures_by_error reads them).
create table if not exists public.broadcasts_rollup_detail (
  grain text not null check (grain in ('m', 'q', 'h', 'd')),
  bucket_start timestamptz not null,
  campaign text,
  sender_key text,
  kind text not null check (kind in ('delivery', 'read', 'error_sent', 'error_failed')),
  code integer,
  title text,
  messages bigint not null,
  total numeric not null,
  pending boolean not null default true
);

create index if not exists broadcasts_rollup_bucket_idx on public.broadcasts_rollup (grain, bucket_start);
create index if not exists broadcasts_rollup_pending_idx on public.broadcasts_rollup (grain, bucket_start) where pending;
create index if not exists broadcasts_rollup_detail_bucket_idx
  on public.broadcasts_rollup_detail (grain, kind, bucket_start);
create index if not exists broadcasts_rollup_detail_pending_idx
  on public.broadcasts_rollup_detail (grain, bucket_start) where pending;

-- Minute rows exist for buckets from minute_horizon on (compact_rollups() moves it forward and drops older minute
-- rows): before it, a period's edges that are not whole quarters are read from the message rows instead.
create table if not exists public.broadcasts_rollup_state (
  id boolean primary key default true check (id),
  minute_horizon timestamptz not null default '-infinity'
);
-- Starts eight days back (compact_rollups' default), so a bulk load of history right after this migration writes no
-- minute rows for it.
insert into public.broadcasts_rollup_state (id, minute_horizon)
values (true, date_bin('15 minutes', now() - interval '8 days', timestamptz '2000-01-01 00:00+00'))
on conflict do nothing;
alter table public.broadcasts_rollup_state enable row level security;

comment on table public.broadcasts_rollup is
  'Per UTC day (grain d), hour (h), quarter hour (q) and minute (m) of coalesce(sent_at, failed_at), campaign and sender: sums kept by triggers on broadcasts_messages. Sum rows per key; see 0022.';
comment on table public.broadcasts_rollup_detail is
  'Delay histograms and failures by error code per bucket (see 0022). Sum rows per key.';

alter table public.broadcasts_rollup enable row level security;
alter table public.broadcasts_rollup_detail enable row level security;
do $$
begin
  if exists (select 1 from pg_roles where rolname = 'anon') then
    execute 'revoke all on public.broadcasts_rollup, public.broadcasts_rollup_detail, public.broadcasts_rollup_state from anon, authenticated';
  end if;
end;
$$;

-- The histogram's lower bounds in seconds (bin i = [bounds[i], bounds[i+1]), the last bin open): 0..59 by one
-- second, then 60 x 2^(k/8) rounded (about 9 % apart) up to 30 days, plus 120, 600, 3600, 21600 and 86400 so that
-- delay_distribution's buckets are whole bins. Written out as a literal once, here, so the function is a constant.
do $$
declare
  bounds numeric[];
begin
  select array_agg(b order by b) into bounds
    from (select g::numeric as b from generate_series(0, 59) g
          union
          select round(60 * power(2, k / 8.0))::numeric from generate_series(0, 8 * 16) k
           where 60 * power(2, k / 8.0) <= 2592000
          union
          select unnest(array[120, 600, 3600, 21600, 86400])::numeric) s;
  execute format($f$
    create or replace function public.broadcasts_latency_bounds()
    returns numeric[]
    language sql immutable parallel safe
    return %L::numeric[]
  $f$, bounds);
end;
$$;

-- The SELECT that turns message rows into rollup rows, in one place for the triggers, rebuild_rollups() and the
-- edges of a period. `source` yields broadcasts_messages rows plus a `sign` column (+1 new state, -1 old state).
-- mode 'mq': rows of every grain (minute rows only from minute_horizon on); mode 'edge': minute rows (grain 'm') of
-- the rows whose period time t is in [$1, $2).
create or replace function public.broadcasts_rollup_sql(part text, source text, mode text)
returns text
language plpgsql immutable
set search_path = public, pg_temp
as $fn$
declare
  in_range text := case when mode = 'edge' then 't >= $1 and t < $2' else 'true' end;
begin
  if part = 'main' then
    return format($q$
      with x as (
        select m.sign, coalesce(m.sent_at, m.failed_at) as t, m.campaign,
               coalesce(m.sender_phone_number_id, m.sender_project_id) as sender_key,
               public.broadcasts_sender_label(m.sender_display_phone_number, m.sender_phone_number_id,
                                              m.sender_project_id) as sender_label,
               (m.sent_at is not null)::int as sent,
               (m.delivered_at is not null)::int as delivered,
               (m.read_at is not null)::int as read,
               (m.played_at is not null)::int as played,
               (m.failed_at is not null)::int as failed,
               (m.sent_at is not null and m.failed_at is not null and m.delivered_at is null)::int as failed_undelivered,
               (m.sent_at is not null and m.failed_at is null and m.delivered_at is null)::int as waiting,
               case when not (m.inferred_stages && array['sent', 'delivered'])
                     and m.reported_delivered_at is not null and m.reported_sent_at is not null
                    then extract(epoch from m.reported_delivered_at - m.reported_sent_at) end as delivery_seconds,
               case when not (m.inferred_stages && array['delivered', 'read'])
                     and m.reported_read_at is not null and m.reported_delivered_at is not null
                    then extract(epoch from m.reported_read_at - m.reported_delivered_at) / 60 end as read_minutes
          from %1$s m
      ),
      fine as (
        select case when %3$L = 'edge' or x.t >= (select minute_horizon from public.broadcasts_rollup_state)
                    then 'm' else 'q' end as grain,
               case when %3$L = 'edge' or x.t >= (select minute_horizon from public.broadcasts_rollup_state)
                    then date_bin('1 minute', x.t, timestamptz '2000-01-01 00:00+00')
                    else date_bin('15 minutes', x.t, timestamptz '2000-01-01 00:00+00') end as bucket_start,
               x.campaign, x.sender_key, x.sender_label,
               sum(x.sign) as messages, sum(x.sign * x.sent) as sent, sum(x.sign * x.delivered) as delivered,
               sum(x.sign * x.read) as read, sum(x.sign * x.played) as played, sum(x.sign * x.failed) as failed,
               sum(x.sign * x.failed_undelivered) as failed_undelivered, sum(x.sign * x.waiting) as waiting,
               coalesce(sum(x.sign * x.delivery_seconds), 0) as delivery_seconds_sum,
               sum(x.sign * (x.delivery_seconds is not null)::int) as delivery_samples,
               coalesce(sum(x.sign * x.read_minutes), 0) as read_minutes_sum,
               sum(x.sign * (x.read_minutes is not null)::int) as read_samples
          from x
         where x.t is not null and %2$s
         group by 1, 2, 3, 4, 5
      ),
      grains as (
        select * from fine where grain = 'm'
        union all
        select g.grain, date_bin(g.width, f.bucket_start, timestamptz '2000-01-01 00:00+00'), f.campaign,
               f.sender_key, f.sender_label, sum(f.messages), sum(f.sent), sum(f.delivered), sum(f.read),
               sum(f.played), sum(f.failed), sum(f.failed_undelivered), sum(f.waiting), sum(f.delivery_seconds_sum),
               sum(f.delivery_samples), sum(f.read_minutes_sum), sum(f.read_samples)
          from fine f
         cross join (values ('q', interval '15 minutes'), ('h', interval '1 hour'), ('d', interval '1 day')) g(grain, width)
         where %3$L = 'mq'
         group by 1, 2, 3, 4, 5
      )
      select grain, bucket_start, campaign, sender_key, sender_label, messages::bigint, sent::bigint,
             delivered::bigint, read::bigint, played::bigint, failed::bigint, failed_undelivered::bigint,
             waiting::bigint, delivery_seconds_sum, delivery_samples::bigint, read_minutes_sum, read_samples::bigint
        from grains
       where (messages, sent, delivered, read, played, failed, failed_undelivered, waiting, delivery_seconds_sum,
              delivery_samples, read_minutes_sum, read_samples) <> (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    $q$, source, replace(in_range, 't ', 'x.t '), mode);
  elsif part = 'detail' then
    return format($q$
      with x as (
        select m.sign, m.campaign, coalesce(m.sender_phone_number_id, m.sender_project_id) as sender_key,
               m.sent_at, m.failed_at, m.delivered_at, m.error_code, m.error_title,
               case when not (m.inferred_stages && array['sent', 'delivered'])
                     and m.reported_delivered_at is not null and m.reported_sent_at is not null
                    then extract(epoch from m.reported_delivered_at - m.reported_sent_at) end as delivery_seconds,
               case when not (m.inferred_stages && array['delivered', 'read'])
                     and m.reported_read_at is not null and m.reported_delivered_at is not null
                    then extract(epoch from m.reported_read_at - m.reported_delivered_at) end as read_seconds
          from %1$s m
      ),
      fine as (
        select case when %3$L = 'edge' or k.t >= (select minute_horizon from public.broadcasts_rollup_state)
                    then 'm' else 'q' end as grain,
               case when %3$L = 'edge' or k.t >= (select minute_horizon from public.broadcasts_rollup_state)
                    then date_bin('1 minute', k.t, timestamptz '2000-01-01 00:00+00')
                    else date_bin('15 minutes', k.t, timestamptz '2000-01-01 00:00+00') end as bucket_start,
               -- Histograms are kept overall: per campaign they would hold about a row per message at low volumes.
               case when k.kind like 'error%%' then x.campaign end as campaign,
               case when k.kind like 'error%%' then x.sender_key end as sender_key, k.kind, k.code, k.title,
               sum(x.sign) as messages, coalesce(sum(x.sign * k.value), 0) as total
          from x
         cross join lateral (values
           ('delivery', case when x.delivery_seconds is not null then x.sent_at end,
            width_bucket(x.delivery_seconds, public.broadcasts_latency_bounds()), null::text, x.delivery_seconds),
           ('read', case when x.read_seconds is not null then x.sent_at end,
            width_bucket(x.read_seconds, public.broadcasts_latency_bounds()), null::text, x.read_seconds),
           ('error_sent', case when x.sent_at is not null and x.failed_at is not null and x.delivered_at is null
                                and x.error_code is not null then x.sent_at end,
            x.error_code, x.error_title, null::numeric),
           ('error_failed', x.failed_at, x.error_code, x.error_title, null::numeric)
         ) k(kind, t, code, title, value)
         where k.t is not null and %2$s
         group by 1, 2, 3, 4, 5, 6, 7
      ),
      grains as (
        select * from fine where grain = 'm'
        union all
        select g.grain, date_bin(g.width, f.bucket_start, timestamptz '2000-01-01 00:00+00'), f.campaign,
               f.sender_key, f.kind, f.code, f.title, sum(f.messages), sum(f.total)
          from fine f
         cross join (values ('q', interval '15 minutes'), ('h', interval '1 hour'), ('d', interval '1 day')) g(grain, width)
         where %3$L = 'mq'
         group by 1, 2, 3, 4, 5, 6, 7
      )
      select grain, bucket_start, campaign, sender_key, kind, code, title, messages::bigint, total
        from grains
       where messages <> 0 or total <> 0
    $q$, source, replace(in_range, 't ', 'k.t '), mode);
  end if;
  raise exception 'broadcasts_rollup_sql: unknown part %', part;
end;
$fn$;

-- The triggers. Only what the statement changed is read (the transition tables), and each statement appends one
-- aggregate; no rollup row is ever locked. The functions are written here from broadcasts_rollup_sql() as static SQL,
-- so PL/pgSQL plans them once per session instead of at every statement (measured: EXECUTE of the two aggregates
-- at every statement halved the rate of batches of 100), and return at once when the statement changed nothing:
-- an upsert fires both triggers, and one of the two usually has no rows.
drop function if exists public.broadcasts_rollup_after_write();
do $$
declare
  columns_main constant text := 'grain, bucket_start, campaign, sender_key, sender_label, messages, sent, delivered,
    read, played, failed, failed_undelivered, waiting, delivery_seconds_sum, delivery_samples, read_minutes_sum,
    read_samples';
  columns_detail constant text := 'grain, bucket_start, campaign, sender_key, kind, code, title, messages, total';
  op record;
begin
  for op in
    select * from (values
      ('insert', 'new_rows', '(select 1 as sign, n.* from new_rows n)'),
      ('update', 'new_rows', '(select 1 as sign, n.* from new_rows n union all select -1, o.* from old_rows o)')
    ) v(name, probe, source)
  loop
    execute format($f$
      create or replace function public.broadcasts_rollup_after_%1$s()
      returns trigger
      language plpgsql
      security definer
      set search_path = public, pg_temp
      as $body$
      begin
        if not exists (select 1 from %2$s) then
          return null;
        end if;
        insert into public.broadcasts_rollup (%3$s) %4$s;
        insert into public.broadcasts_rollup_detail (%5$s) %6$s;
        return null;
      end;
      $body$
    $f$, op.name, op.probe, columns_main, public.broadcasts_rollup_sql('main', op.source, 'mq'), columns_detail,
         public.broadcasts_rollup_sql('detail', op.source, 'mq'));
  end loop;
end;
$$;

drop trigger if exists broadcasts_messages_rollup_insert on public.broadcasts_messages;
create trigger broadcasts_messages_rollup_insert
  after insert on public.broadcasts_messages
  referencing new table as new_rows
  for each statement execute function public.broadcasts_rollup_after_insert();

drop trigger if exists broadcasts_messages_rollup_update on public.broadcasts_messages;
create trigger broadcasts_messages_rollup_update
  after update on public.broadcasts_messages
  referencing old table as old_rows new table as new_rows
  for each statement execute function public.broadcasts_rollup_after_update();

-- TRUNCATE is a start-over (tests, the benchmark's generator), not retention (which deletes in batches and keeps the
-- rollups): the rollups start over with the rows.
create or replace function public.broadcasts_rollup_after_truncate()
returns trigger
language plpgsql
security definer
set search_path = public, pg_temp
as $$
begin
  truncate public.broadcasts_rollup, public.broadcasts_rollup_detail;
  return null;
end;
$$;

drop trigger if exists broadcasts_messages_rollup_truncate on public.broadcasts_messages;
create trigger broadcasts_messages_rollup_truncate
  after truncate on public.broadcasts_messages
  for each statement execute function public.broadcasts_rollup_after_truncate();

-- Upkeep, run by the sweeper every few minutes (one at a time: advisory lock; writers are never blocked):
--   1. drops minute rows older than `keep_minutes` (they only serve the edges of recent periods and the alarms'
--      windows; older edges read the message rows), moving minute_horizon forward;
--   2. folds the pending rows of at most `max_buckets` buckets, oldest first, into one row per key.
-- Without it reads stay right but read more rows (one per writing statement). Returns the number of rows removed.
drop function if exists public.compact_rollups();
create or replace function public.compact_rollups(keep_minutes interval default '8 days', max_buckets integer default 5000)
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
  if not pg_try_advisory_xact_lock(hashtext('public.broadcasts_rollup')) then
    return 0;
  end if;
  update public.broadcasts_rollup_state set minute_horizon = horizon where minute_horizon < horizon;
  if found then
    delete from public.broadcasts_rollup where grain = 'm' and bucket_start < horizon;
    get diagnostics n = row_count;
    removed := removed + n;
    delete from public.broadcasts_rollup_detail where grain = 'm' and bucket_start < horizon;
    get diagnostics n = row_count;
    removed := removed + n;
  end if;

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
  )
  select (select count(*) from gone) - (select count(*) from folded_rows) into n;
  removed := removed + n;

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
  )
  select (select count(*) from gone) - (select count(*) from folded_rows) into n;
  return removed + n;
end;
$$;

-- Recomputes the rollups of [range_start, range_end) (widened to whole UTC days; default: everything) from the
-- message rows. Rows deleted by retention or erasure are gone from the table: rebuilding their period forgets them,
-- so rebuild only periods whose rows are all still there. Writers wait while it runs (SHARE lock).
-- Returns the number of rollup rows written.
create or replace function public.rebuild_rollups(range_start timestamptz default null, range_end timestamptz default null)
returns bigint
language plpgsql
volatile
set search_path = public, pg_temp
as $$
declare
  lo timestamptz;
  hi timestamptz;
  source text;
  main_rows bigint;
  detail_rows bigint;
begin
  -- Whole UTC days: the coarsest rollup rows cover a day.
  lo := case when range_start is null then '-infinity'::timestamptz
             else date_bin('1 day', range_start, timestamptz '2000-01-01 00:00+00') end;
  hi := case when range_end is null then 'infinity'::timestamptz
             when date_bin('1 day', range_end, timestamptz '2000-01-01 00:00+00') = range_end then range_end
             else date_bin('1 day', range_end, timestamptz '2000-01-01 00:00+00') + interval '1 day' end;
  lock table public.broadcasts_messages in share mode;
  perform pg_advisory_xact_lock(hashtext('public.broadcasts_rollup'));
  delete from public.broadcasts_rollup where bucket_start >= lo and bucket_start < hi;
  delete from public.broadcasts_rollup_detail where bucket_start >= lo and bucket_start < hi;
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
  return main_rows + detail_rows;
end;
$$;

-- For a bulk load (the benchmark's generator, an import): set_rollup_triggers(false), load, then
-- set_rollup_triggers(true) and rebuild_rollups(from, to) over the loaded period. Owner only (ALTER TABLE).
create or replace function public.set_rollup_triggers(enabled boolean)
returns void
language plpgsql
volatile
set search_path = public, pg_temp
as $$
begin
  execute format('alter table public.broadcasts_messages %1$s trigger broadcasts_messages_rollup_insert, '
                 '%1$s trigger broadcasts_messages_rollup_update',
                 case when enabled then 'enable' else 'disable' end);
end;
$$;

-- How a period [range_start, range_end) is read: the whole UTC days in it from grain 'd' (at most `coarsest`:
-- 'h' for readers that group by hour, 'q' for hours in any time zone), the whole hours at its ends from 'h', then
-- the whole quarters from 'q', the whole minutes from 'm' (from minute_horizon on), and the rest ('rows': the
-- seconds before the first and after the last whole minute, or partial quarters before minute_horizon) from the
-- message rows.
drop function if exists public.broadcasts_rollup_pieces(timestamptz, timestamptz);
create or replace function public.broadcasts_rollup_pieces(
  range_start timestamptz, range_end timestamptz, coarsest text default 'd')
returns table (source text, piece_start timestamptz, piece_end timestamptz)
language plpgsql stable
set search_path = public, pg_temp
as $$
declare
  grains constant text[] := array['d', 'h', 'q', 'm'];
  widths constant interval[] := array[interval '1 day', interval '1 hour', interval '15 minutes', interval '1 minute'];
  origin constant timestamptz := timestamptz '2000-01-01 00:00+00';
  horizon timestamptz := coalesce((select s.minute_horizon from public.broadcasts_rollup_state s), '-infinity');
  starts timestamptz[] := array[range_start];
  ends timestamptz[] := array[range_end];
  levels integer[] := array[array_position(grains, coarsest)];
  a timestamptz;
  z timestamptz;
  lvl integer;
  whole_start timestamptz;
  whole_end timestamptz;
begin
  if levels[1] is null then
    raise exception 'broadcasts_rollup_pieces: coarsest must be d, h, q or m' using errcode = '22023';
  end if;
  while cardinality(starts) > 0 loop
    a := starts[cardinality(starts)];
    z := ends[cardinality(ends)];
    lvl := levels[cardinality(levels)];
    starts := trim_array(starts, 1);
    ends := trim_array(ends, 1);
    levels := trim_array(levels, 1);
    continue when a >= z;
    if lvl > 4 then
      return query select 'rows'::text, a, z;
      continue;
    end if;
    whole_start := date_bin(widths[lvl], a, origin);
    if whole_start < a then whole_start := whole_start + widths[lvl]; end if;
    whole_end := date_bin(widths[lvl], z, origin);
    if grains[lvl] = 'm' and whole_start < horizon then
      return query select 'rows'::text, a, z;
    elsif whole_start < whole_end then
      return query select grains[lvl], whole_start, whole_end;
      starts := starts || array[a, whole_end];
      ends := ends || array[whole_start, z];
      levels := levels || array[lvl + 1, lvl + 1];
    else
      starts := starts || a;
      ends := ends || z;
      levels := levels || (lvl + 1);
    end if;
  end loop;
end;
$$;

-- The rollup rows of a period (by coalesce(sent_at, failed_at)), unsummed: every reader groups them as it needs.
create or replace function public.rollup_range(range_start timestamptz, range_end timestamptz, coarsest text default 'd')
returns table (
  bucket_start timestamptz, campaign text, sender_key text, sender_label text, messages bigint, sent bigint,
  delivered bigint, read bigint, played bigint, failed bigint, failed_undelivered bigint, waiting bigint,
  delivery_seconds_sum numeric, delivery_samples bigint, read_minutes_sum numeric, read_samples bigint)
language plpgsql stable
set search_path = public, pg_temp
as $$
declare
  p record;
begin
  for p in select * from public.broadcasts_rollup_pieces(range_start, range_end, coarsest) loop
    if p.source = 'rows' then
      return query execute
        'select bucket_start, campaign, sender_key, sender_label, messages, sent, delivered, read, played, failed,
                failed_undelivered, waiting, delivery_seconds_sum, delivery_samples, read_minutes_sum, read_samples
           from (' || public.broadcasts_rollup_sql('main',
             '(select 1 as sign, m.* from public.broadcasts_messages m
                where (m.sent_at >= $1 and m.sent_at < $2) or (m.sent_at is null and m.failed_at >= $1 and m.failed_at < $2))',
             'edge') || ') e'
        using p.piece_start, p.piece_end;
    else
      return query
        select r.bucket_start, r.campaign, r.sender_key, r.sender_label, r.messages, r.sent, r.delivered, r.read,
               r.played, r.failed, r.failed_undelivered, r.waiting, r.delivery_seconds_sum, r.delivery_samples,
               r.read_minutes_sum, r.read_samples
          from public.broadcasts_rollup r
         where r.grain = p.source and r.bucket_start >= p.piece_start and r.bucket_start < p.piece_end;
    end if;
  end loop;
end;
$$;

-- The detail rows of one kind for a period (by sent time, or failure time for 'error_failed'), unsummed.
create or replace function public.rollup_detail_range(
  range_start timestamptz, range_end timestamptz, detail_kind text, coarsest text default 'd')
returns table (bucket_start timestamptz, campaign text, sender_key text, code integer, title text, messages bigint,
               total numeric)
language plpgsql stable
set search_path = public, pg_temp
as $$
declare
  p record;
begin
  for p in select * from public.broadcasts_rollup_pieces(range_start, range_end, coarsest) loop
    if p.source = 'rows' then
      return query execute
        'select bucket_start, campaign, sender_key, code, title, messages, total
           from (' || public.broadcasts_rollup_sql('detail',
             case when detail_kind = 'error_failed'
                  then '(select 1 as sign, m.* from public.broadcasts_messages m where m.failed_at >= $1 and m.failed_at < $2)'
                  else '(select 1 as sign, m.* from public.broadcasts_messages m where m.sent_at >= $1 and m.sent_at < $2)' end,
             'edge') || ') e where e.kind = $3'
        using p.piece_start, p.piece_end, detail_kind;
    else
      return query
        select r.bucket_start, r.campaign, r.sender_key, r.code, r.title, r.messages, r.total
          from public.broadcasts_rollup_detail r
         where r.grain = p.source and r.kind = detail_kind
           and r.bucket_start >= p.piece_start and r.bucket_start < p.piece_end;
    end if;
  end loop;
end;
$$;

-- A percentile_cont over a histogram: bins in order, each with its count and the sum of its values; the values of a
-- bin are taken to be its mean (exact when they are equal, else within the bin's width).
create or replace function public.rollup_percentile(fraction double precision, counts bigint[], totals numeric[])
returns numeric
language plpgsql immutable
set search_path = public, pg_temp
as $$
declare
  n bigint := 0;
  pos numeric;
  lo_rank bigint;
  hi_rank bigint;
  lo_value numeric;
  hi_value numeric;
  seen bigint := 0;
  i integer;
begin
  for i in 1 .. coalesce(array_length(counts, 1), 0) loop
    n := n + greatest(counts[i], 0);
  end loop;
  if n = 0 then
    return null;
  end if;
  pos := fraction::numeric * (n - 1);
  lo_rank := floor(pos);
  hi_rank := ceil(pos);
  for i in 1 .. array_length(counts, 1) loop
    continue when counts[i] <= 0;
    if lo_value is null and lo_rank < seen + counts[i] then
      lo_value := totals[i] / counts[i];
    end if;
    if hi_rank < seen + counts[i] then
      hi_value := totals[i] / counts[i];
      exit;
    end if;
    seen := seen + counts[i];
  end loop;
  return lo_value + (pos - lo_rank) * (hi_value - lo_value);
end;
$$;

-- ---------------------------------------------------------------------------------------------------------------
-- The report and alarm functions, same signatures and columns, now on the rollups.

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
    from public.rollup_range(period_start, period_end) r
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
    from public.rollup_range(period_start, period_end, 'h') r
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
            from public.rollup_range(period_start, period_end, 'h') r
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
  -- Summed per bucket first: one time-zone conversion per quarter, not per campaign and sender.
  select extract(isodow from b.bucket_start at time zone time_zone)::integer,
         extract(hour from b.bucket_start at time zone time_zone)::integer,
         sum(b.delivered)::bigint,
         sum(b.read)::bigint,
         round(100.0 * sum(b.read) / nullif(sum(b.delivered), 0), 2)
    from (select r.bucket_start, sum(r.sent) as sent, sum(r.delivered) as delivered, sum(r.read) as read
            from public.rollup_range(period_start, period_end, 'q') r
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
      from public.rollup_detail_range(period_start, period_end, 'error_failed') d
     group by d.code, d.title
    having sum(d.messages) > 0
  )
  select c.code, min(c.title), sum(c.n)::bigint, round(100.0 * sum(c.n) / sum(sum(c.n)) over (), 2)
    from codes c
   group by c.code
   order by 3 desc, 1;
$$;

create or replace function public.delay_distribution(period_start timestamptz, period_end timestamptz)
returns table (kind text, bucket_order integer, bucket text, messages bigint)
language sql stable
set search_path = public, pg_temp
as $$
  with bins as materialized (
    select k.kind, (public.broadcasts_latency_bounds())[d.code] as lower_seconds, sum(d.messages) as n
      from (values ('delivery'), ('read')) k(kind)
     cross join lateral public.rollup_detail_range(period_start, period_end, k.kind) d
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
     cross join lateral public.rollup_detail_range(period_start, period_end, k.kind) d
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
      from bounds b cross join lateral public.rollup_range(b.d_from, b.d_to) c
  ),
  latency as (
    select public.rollup_percentile(0.5, array_agg(n order by code), array_agg(total order by code)) as median_seconds
      from (select d.code, sum(d.messages)::bigint as n, sum(d.total) as total
              from bounds b cross join lateral public.rollup_detail_range(b.d_from, b.d_to, 'delivery') d
             group by d.code) h
  ),
  top_error as (
    select e.code, min(e.title) as title, sum(e.n)::bigint as n
      from (select d.code, d.title, sum(d.messages) as n
              from bounds b cross join lateral public.rollup_detail_range(b.d_from, b.d_to, 'error_sent') d
             group by d.code, d.title
            having sum(d.messages) > 0) e
     group by e.code
     order by sum(e.n) desc, e.code
     limit 1
  ),
  reading as (
    select coalesce(sum(c.delivered), 0)::bigint as delivered, coalesce(sum(c.read), 0)::bigint as read
      from bounds b cross join lateral public.rollup_range(b.r_from, b.r_to) c
  ),
  waiting as (
    select coalesce(sum(c.sent), 0)::bigint as sent, coalesce(sum(c.waiting), 0)::bigint as waiting
      from bounds b cross join lateral public.rollup_range(b.u_from, b.u_to) c
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
    'broadcasts_latency_bounds()', 'broadcasts_rollup_sql(text, text, text)', 'broadcasts_rollup_after_insert()', 'broadcasts_rollup_after_update()',
    'broadcasts_rollup_after_truncate()',
    'compact_rollups(interval, integer)', 'rebuild_rollups(timestamptz, timestamptz)', 'set_rollup_triggers(boolean)',
    'broadcasts_rollup_pieces(timestamptz, timestamptz, text)', 'rollup_range(timestamptz, timestamptz, text)',
    'rollup_detail_range(timestamptz, timestamptz, text, text)', 'rollup_percentile(double precision, bigint[], numeric[])']
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

-- Rows already in the table (an upgrade, an adopted guide table): their rollups, once. Re-running this file does
-- not count them twice (only when the rollups are empty).
do $$
begin
  if not exists (select 1 from public.broadcasts_rollup) and exists (select 1 from public.broadcasts_messages) then
    perform public.rebuild_rollups();
  end if;
end;
$$;
