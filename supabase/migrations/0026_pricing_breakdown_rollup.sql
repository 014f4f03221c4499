-- pricing_breakdown() on a rollup (issue 15, item 2): 0022 moved the other report functions onto rollups; this one
-- still counted a period's message rows (tens of seconds for 30 days of 10M messages).
--
-- Its own table, keyed by what the report groups by (campaign, pricing category, type, model, billable, the first
-- four digits of the number) per UTC day ('d'), hour ('h') and quarter hour ('q') of coalesce(sent_at, failed_at),
-- kept in 0022's way: statement-level insert and update triggers with transition tables append each statement's
-- net contribution (rows marked `pending`), compact_rollups() folds them, rebuild_rollups() recomputes them,
-- TRUNCATE empties them, set_rollup_triggers() switches them. A period is split by 0022's
-- broadcasts_rollup_pieces(): whole days, hours and quarters come from this table, and the rest (at most a
-- quarter hour at each end) from the message rows. No minute grain: minutes serve the alarms' windows, which do not
-- read pricing, and a minute row would hold about one message (its key includes the number's prefix).
--
-- Retention and erasure leave it as it is: no DELETE trigger, and an UPDATE that clears the number or the pricing
-- (erasure is the only writer that does: apply_status_updates merges them with least(), which never drops a value)
-- keeps the old values in the rollup, so a past period's costs stay. rebuild_rollups() over a period with erased rows
-- counts them as they now are (no number, no pricing).
--
-- Forward-only and re-runnable, like the others. 0022 is left as it is: the functions it defines that must now
-- cover this table too (compact_rollups, rebuild_rollups, set_rollup_triggers, the truncate trigger) are redefined
-- here with 0022's body plus this table's part.

create table if not exists public.broadcasts_pricing_rollup (
  grain text not null check (grain in ('q', 'h', 'd')),
  bucket_start timestamptz not null,
  campaign text,
  pricing_category text,
  pricing_type text,
  pricing_model text,
  pricing_billable boolean,
  phone_prefix text,                   -- left(ltrim(phone_number, '+'), 4), as pricing_breakdown returns it
  messages bigint not null,
  pending boolean not null default true
);
create index if not exists broadcasts_pricing_rollup_bucket_idx on public.broadcasts_pricing_rollup (grain, bucket_start);
create index if not exists broadcasts_pricing_rollup_pending_idx
  on public.broadcasts_pricing_rollup (grain, bucket_start) where pending;
comment on table public.broadcasts_pricing_rollup is
  'Messages per UTC day (d), hour (h) and quarter (q) of coalesce(sent_at, failed_at) and pricing_breakdown''s key: sums kept by triggers on broadcasts_messages. Sum rows per key; see 0026.';
alter table public.broadcasts_pricing_rollup enable row level security;
do $$
begin
  if exists (select 1 from pg_roles where rolname = 'anon') then
    execute 'revoke all on public.broadcasts_pricing_rollup from anon, authenticated';
  end if;
end;
$$;

-- The SELECT that turns rows into pricing rollup rows. `source` yields (sign, t, campaign, pricing_category,
-- pricing_type, pricing_model, pricing_billable, phone_prefix); grains 'qhd' (every grain: triggers, rebuild) or
-- 'edge' (one row per key, bucket_start null: the rows read at a period's ends).
create or replace function public.broadcasts_pricing_rollup_sql(source text, grains text)
returns text
language plpgsql immutable
set search_path = public, pg_temp
as $fn$
begin
  if grains = 'edge' then
    return format($q$
      select null::text as grain, null::timestamptz as bucket_start, s.campaign, s.pricing_category, s.pricing_type,
             s.pricing_model, s.pricing_billable, s.phone_prefix, sum(s.sign)::bigint as messages
        from %s s
       group by 3, 4, 5, 6, 7, 8
      having sum(s.sign) <> 0
    $q$, source);
  end if;
  return format($q$
    select g.grain, date_bin(g.width, s.t, timestamptz '2000-01-01 00:00+00') as bucket_start, s.campaign,
           s.pricing_category, s.pricing_type, s.pricing_model, s.pricing_billable, s.phone_prefix,
           sum(s.sign)::bigint as messages
      from %s s
     cross join (values ('q', interval '15 minutes'), ('h', interval '1 hour'), ('d', interval '1 day')) g(grain, width)
     where s.t is not null
     group by 1, 2, 3, 4, 5, 6, 7, 8
    having sum(s.sign) <> 0
  $q$, source);
end;
$fn$;

-- Message rows as the source above wants them, from a relation of broadcasts_messages rows.
create or replace function public.broadcasts_pricing_rollup_source(relation text, sign integer)
returns text
language sql immutable
set search_path = public, pg_temp
return format(
  '(select %2$s as sign, coalesce(m.sent_at, m.failed_at) as t, m.campaign, m.pricing_category, m.pricing_type,
           m.pricing_model, m.pricing_billable, left(ltrim(m.phone_number, ''+''), 4) as phone_prefix
      from %1$s m)', relation, sign);

-- The triggers, written out as static SQL (see 0022: planned once per session). An update contributes only the rows
-- whose key or time changed (a `sent` that arrives after `delivered`, pricing that comes with a later status, a
-- row inserted before it was sent): most status updates change neither, and cost a join of the two transition
-- tables. A cleared number or pricing keeps its old value (erasure, above).
do $$
declare
  columns constant text := 'grain, bucket_start, campaign, pricing_category, pricing_type, pricing_model,
    pricing_billable, phone_prefix, messages';
  update_source constant text := $s$(
    select c.* from old_rows o join new_rows n on n.id = o.id
     cross join lateral (
       select coalesce(n.sent_at, n.failed_at) as t, n.campaign,
              case when n.pricing is null then o.pricing_category else n.pricing_category end as pricing_category,
              case when n.pricing is null then o.pricing_type else n.pricing_type end as pricing_type,
              case when n.pricing is null then o.pricing_model else n.pricing_model end as pricing_model,
              case when n.pricing is null then o.pricing_billable else n.pricing_billable end as pricing_billable,
              left(ltrim(coalesce(n.phone_number, o.phone_number), '+'), 4) as phone_prefix) k
     cross join lateral (values
       (-1, coalesce(o.sent_at, o.failed_at), o.campaign, o.pricing_category, o.pricing_type, o.pricing_model,
        o.pricing_billable, left(ltrim(o.phone_number, '+'), 4)),
       (1, k.t, k.campaign, k.pricing_category, k.pricing_type, k.pricing_model, k.pricing_billable, k.phone_prefix)
     ) c(sign, t, campaign, pricing_category, pricing_type, pricing_model, pricing_billable, phone_prefix)
     where (coalesce(o.sent_at, o.failed_at), o.campaign, o.pricing_category, o.pricing_type, o.pricing_model,
            o.pricing_billable, left(ltrim(o.phone_number, '+'), 4))
           is distinct from
           (k.t, k.campaign, k.pricing_category, k.pricing_type, k.pricing_model, k.pricing_billable, k.phone_prefix))$s$;
  op record;
begin
  for op in
    select * from (values
      ('insert', public.broadcasts_pricing_rollup_source('new_rows', 1)),
      ('update', update_source)
    ) v(name, source)
  loop
    execute format($f$
      create or replace function public.broadcasts_pricing_rollup_after_%1$s()
      returns trigger
      language plpgsql
      security definer
      set search_path = public, pg_temp
      as $body$
      begin
        if not exists (select 1 from new_rows) then
          return null;
        end if;
        insert into public.broadcasts_pricing_rollup (%2$s) %3$s;
        return null;
      end;
      $body$
    $f$, op.name, columns, public.broadcasts_pricing_rollup_sql(op.source, 'qhd'));
  end loop;
end;
$$;

drop trigger if exists broadcasts_messages_pricing_rollup_insert on public.broadcasts_messages;
create trigger broadcasts_messages_pricing_rollup_insert
  after insert on public.broadcasts_messages
  referencing new table as new_rows
  for each statement execute function public.broadcasts_pricing_rollup_after_insert();

drop trigger if exists broadcasts_messages_pricing_rollup_update on public.broadcasts_messages;
create trigger broadcasts_messages_pricing_rollup_update
  after update on public.broadcasts_messages
  referencing old table as old_rows new table as new_rows
  for each statement execute function public.broadcasts_pricing_rollup_after_update();

-- 0022's truncate trigger function, now emptying this table too.
create or replace function public.broadcasts_rollup_after_truncate()
returns trigger
language plpgsql
security definer
set search_path = public, pg_temp
as $$
begin
  truncate public.broadcasts_rollup, public.broadcasts_rollup_detail, public.broadcasts_pricing_rollup;
  return null;
end;
$$;

-- Folds the pending rows of at most `max_buckets` buckets, oldest first, into one row per key; returns the number of
-- rows removed. Called by compact_rollups() under its lock.
create or replace function public.compact_pricing_rollup(max_buckets integer)
returns bigint
language plpgsql
volatile
set search_path = public, pg_temp
as $$
declare
  n bigint;
begin
  with touched as (
    select distinct grain, bucket_start from public.broadcasts_pricing_rollup where pending
     order by bucket_start, grain limit max_buckets
  ),
  gone as (
    delete from public.broadcasts_pricing_rollup r using touched t
     where r.grain = t.grain and r.bucket_start = t.bucket_start
    returning r.*
  ),
  folded_rows as (
    insert into public.broadcasts_pricing_rollup (grain, bucket_start, campaign, pricing_category, pricing_type,
           pricing_model, pricing_billable, phone_prefix, messages, pending)
    select grain, bucket_start, campaign, pricing_category, pricing_type, pricing_model, pricing_billable,
           phone_prefix, sum(messages), false
      from gone
     group by grain, bucket_start, campaign, pricing_category, pricing_type, pricing_model, pricing_billable,
              phone_prefix
    having sum(messages) <> 0
    returning 1
  )
  select (select count(*) from gone) - (select count(*) from folded_rows) into n;
  return n;
end;
$$;

-- Recomputes this table over [lo, hi) (whole UTC days, as rebuild_rollups() widens them) from the message rows.
-- Called by rebuild_rollups() under its locks. Returns the number of rows written.
create or replace function public.rebuild_pricing_rollup(lo timestamptz, hi timestamptz)
returns bigint
language plpgsql
volatile
set search_path = public, pg_temp
as $$
declare
  written bigint;
begin
  delete from public.broadcasts_pricing_rollup where bucket_start >= lo and bucket_start < hi;
  execute 'insert into public.broadcasts_pricing_rollup (grain, bucket_start, campaign, pricing_category,
             pricing_type, pricing_model, pricing_billable, phone_prefix, messages, pending)
           select *, false from (' || public.broadcasts_pricing_rollup_sql(
             public.broadcasts_pricing_rollup_source(
               '(select * from public.broadcasts_messages m
                  where coalesce(m.sent_at, m.failed_at) >= $1 and coalesce(m.sent_at, m.failed_at) < $2)', 1),
             'qhd') || ') r'
    using lo, hi;
  get diagnostics written = row_count;
  return written;
end;
$$;

-- 0022's compact_rollups(), unchanged but for the last step: this table's pending rows are folded too, so the
-- sweeper's one call keeps both.
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
  removed := removed + n;

  return removed + public.compact_pricing_rollup(max_buckets);
end;
$$;

-- 0022's rebuild_rollups(), unchanged but for this table's rebuild over the same days.
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
  return main_rows + detail_rows + public.rebuild_pricing_rollup(lo, hi);
end;
$$;

-- 0022's set_rollup_triggers(), switching this table's two triggers with the others.
create or replace function public.set_rollup_triggers(enabled boolean)
returns void
language plpgsql
volatile
set search_path = public, pg_temp
as $$
begin
  execute format('alter table public.broadcasts_messages %1$s trigger broadcasts_messages_rollup_insert, '
                 '%1$s trigger broadcasts_messages_rollup_update, '
                 '%1$s trigger broadcasts_messages_pricing_rollup_insert, '
                 '%1$s trigger broadcasts_messages_pricing_rollup_update',
                 case when enabled then 'enable' else 'disable' end);
end;
$$;

-- The pricing rollup rows of a period, unsummed: whole days, hours and quarters from the table, the rest (0022's
-- 'm' and 'rows' pieces: at most a quarter hour at each end) from the message rows, as 0014 selected them.
create or replace function public.pricing_rollup_range(range_start timestamptz, range_end timestamptz)
returns table (campaign text, pricing_category text, pricing_type text, pricing_model text, pricing_billable boolean,
               phone_prefix text, messages bigint)
language plpgsql stable
set search_path = public, pg_temp
as $$
declare
  p record;
begin
  for p in select * from public.broadcasts_rollup_pieces(range_start, range_end, 'd') loop
    if p.source in ('d', 'h', 'q') then
      return query
        select r.campaign, r.pricing_category, r.pricing_type, r.pricing_model, r.pricing_billable, r.phone_prefix,
               r.messages
          from public.broadcasts_pricing_rollup r
         where r.grain = p.source and r.bucket_start >= p.piece_start and r.bucket_start < p.piece_end;
    else
      return query execute
        'select campaign, pricing_category, pricing_type, pricing_model, pricing_billable, phone_prefix, messages
           from (' || public.broadcasts_pricing_rollup_sql(public.broadcasts_pricing_rollup_source(
             '(select * from public.broadcasts_messages m
                where (m.sent_at >= $1 and m.sent_at < $2) or (m.sent_at is null and m.failed_at >= $1 and m.failed_at < $2))',
             1), 'edge') || ') e'
        using p.piece_start, p.piece_end;
    end if;
  end loop;
end;
$$;

-- Same signature, columns and order as 0014.
create or replace function public.pricing_breakdown(period_start timestamptz, period_end timestamptz)
returns table (
  campaign text, pricing_category text, pricing_type text, pricing_model text, pricing_billable boolean,
  phone_prefix text, messages bigint)
language sql stable
set search_path = public, pg_temp
as $$
  select coalesce(r.campaign, '(none)'), r.pricing_category, r.pricing_type, r.pricing_model, r.pricing_billable,
         r.phone_prefix, sum(r.messages)::bigint
    from public.pricing_rollup_range(period_start, period_end) r
   group by 1, 2, 3, 4, 5, 6
  having sum(r.messages) > 0
   order by 1, 7 desc, 2, 3, 4, 5, 6;
$$;

do $$
declare
  fn text;
begin
  foreach fn in array array[
    'broadcasts_pricing_rollup_sql(text, text)', 'broadcasts_pricing_rollup_source(text, integer)',
    'broadcasts_pricing_rollup_after_insert()', 'broadcasts_pricing_rollup_after_update()',
    'broadcasts_rollup_after_truncate()', 'compact_pricing_rollup(integer)',
    'rebuild_pricing_rollup(timestamptz, timestamptz)', 'compact_rollups(interval, integer)',
    'rebuild_rollups(timestamptz, timestamptz)', 'set_rollup_triggers(boolean)',
    'pricing_rollup_range(timestamptz, timestamptz)', 'pricing_breakdown(timestamptz, timestamptz)']
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

-- Rows already in the table (an upgrade): their pricing rollup, once (only while it is empty, so a re-run does not
-- count them twice).
do $$
begin
  if not exists (select 1 from public.broadcasts_pricing_rollup) and exists (select 1 from public.broadcasts_messages) then
    perform public.rebuild_pricing_rollup('-infinity', 'infinity');
  end if;
end;
$$;
