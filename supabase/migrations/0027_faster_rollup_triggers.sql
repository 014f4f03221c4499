-- The rollup triggers' cost on the write path (issue 15): 0022's triggers made batches of 1,000 updates about a third
-- slower (docs/performance.md#rollups). Most of it was the detail aggregate (delay histograms, failures by error):
-- it expanded every changed row into its four kinds with a lateral VALUES list, computing both histogram bins for
-- each row and kind. Here each kind is its own branch over the rows that have one. The figures are the same
-- (test/integration/rollup-properties.test.ts compares every report with its row-based original).
--
-- The delivery delay histogram is also kept per sender from now on (sender_key, the campaign still null), so that
-- delivery_health_by_sender can read its median from the rollups (0030); the readers that sum it over every sender
-- are unchanged. Buckets written before this migration keep one overall row per bin: the per-sender median of a
-- period before it comes back with `npm run rollups:rebuild` over that period.
--
-- broadcasts_rollup_sql() is redefined whole (its main part unchanged) and the trigger functions written from it
-- again, as 0022 writes them; rebuild_rollups() and the edges of a period read the same SQL. Forward-only and
-- re-runnable, like the others.

-- The SELECT that turns message rows into rollup rows (0022): `source` yields broadcasts_messages rows plus a `sign`
-- column (+1 new state, -1 old state); mode 'mq' gives rows of every grain, mode 'edge' minute rows of [$1, $2).
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
      -- One branch per kind, each keeping only the rows that have one: the four kinds of a row were a lateral VALUES
      -- list before (0022), which computed both histogram bins for every row and kind and cost a nested-loop step
      -- per row and kind, most of the update trigger's time.
      k as (
        select x.sign, x.sent_at as t, null::text as campaign, x.sender_key, 'delivery'::text as kind,
               width_bucket(x.delivery_seconds, public.broadcasts_latency_bounds()) as code, null::text as title,
               x.delivery_seconds as value
          from x where x.delivery_seconds is not null and x.sent_at is not null
        union all
        select x.sign, x.sent_at, null, null, 'read', width_bucket(x.read_seconds, public.broadcasts_latency_bounds()),
               null, x.read_seconds
          from x where x.read_seconds is not null and x.sent_at is not null
        union all
        select x.sign, x.sent_at, x.campaign, x.sender_key, 'error_sent', x.error_code, x.error_title, null::numeric
          from x
         where x.sent_at is not null and x.failed_at is not null and x.delivered_at is null and x.error_code is not null
        union all
        select x.sign, x.failed_at, x.campaign, x.sender_key, 'error_failed', x.error_code, x.error_title, null::numeric
          from x where x.failed_at is not null
      ),
      fine as (
        select case when %3$L = 'edge' or k.t >= (select minute_horizon from public.broadcasts_rollup_state)
                    then 'm' else 'q' end as grain,
               case when %3$L = 'edge' or k.t >= (select minute_horizon from public.broadcasts_rollup_state)
                    then date_bin('1 minute', k.t, timestamptz '2000-01-01 00:00+00')
                    else date_bin('15 minutes', k.t, timestamptz '2000-01-01 00:00+00') end as bucket_start,
               -- Histograms are not kept per campaign: they would hold about a row per message at low volumes. The
               -- delivery delays are kept per sender (a business has a few), for delivery_health_by_sender's median.
               k.campaign, k.sender_key, k.kind, k.code, k.title,
               sum(k.sign) as messages, coalesce(sum(k.sign * k.value), 0) as total
          from k
         where %2$s
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