-- Adopting the original guide's table, step 2 of 2 (step 1: 0000_set_aside_original_guide_table.sql; the whole
-- procedure and its figures: docs/adoption.md). No-op unless step 1 set a table aside.
--
-- Moves every row of `broadcasts_messages_before_adoption` into the tracker's table:
--   * id, message_id, phone_number, created_at and updated_at as they were (the id sequence continues after them);
--   * every column of the user's own, created on the tracker's table with the same type and default (a column
--     whose name the tracker already uses, e.g. `campaign`, is copied into it when the types match);
--   * the reported times from the guide's `status` JSONB ({"sent", "delivered", "read", "failed"}, any subset, or
--     none for rows the user's sending code inserted before any webhook). A value that is not a time is left out and
--     counted in a notice;
--   * the guide's own time-zone bug: it formatted local time and appended `Z`, so on a host outside UTC every time
--     is off by the host's offset. created_at was set by the database at the first webhook, seconds after the first
--     status, so when the first status of the rows leads their created_at by one whole quarter-hour offset (in at
--     least 90 % of at least 10 rows, by the median), that offset is taken back from every time, and a notice says so.
--     Only an offset a clock can have (UTC-12 to UTC+14): times years away from created_at (rows inserted by hand
--     with old statuses) are not a time zone, and are kept as written. (Edited after landing, 2026-11-26: it had
--     shifted such rows by years. It runs once, on a guide table, so databases already migrated are not concerned.)
-- Then the set-aside table is dropped. It all runs in the migration's transaction: a failure leaves it untouched.

create or replace function pg_temp.guide_time(value text) returns timestamptz
language plpgsql immutable as $$
begin
  -- The common case without a subtransaction; anything unusual goes through the exception block.
  if value ~ '^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|1\d|2[0-8])[T ]([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,6})?(Z|[+-]\d{2}(:?\d{2})?)?$' then
    return value::timestamptz;
  end if;
  begin
    return value::timestamptz;
  exception when others then
    return null;
  end;
end;
$$;

do $$
declare
  guide constant regclass := to_regclass('public.broadcasts_messages_before_adoption');
  base constant text[] := array['id', 'message_id', 'phone_number', 'status', 'created_at', 'updated_at'];
  col record;
  user_columns text[] := '{}';
  shift_seconds integer := 0;
  lead_median double precision;
  agreeing double precision;
  unreadable bigint;
  moved bigint;
begin
  if guide is null then
    return;
  end if;

  -- The user's own columns, on the tracker's table.
  for col in
    select a.attname as name, format_type(a.atttypid, a.atttypmod) as type, pg_get_expr(d.adbin, d.adrelid) as default_value
      from pg_attribute a
      left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
     where a.attrelid = guide and a.attnum > 0 and not a.attisdropped and a.attname <> all (base)
     order by a.attnum
  loop
    if exists (select 1 from pg_attribute t where t.attrelid = 'public.broadcasts_messages'::regclass and t.attname = col.name and not t.attisdropped) then
      if (select format_type(t.atttypid, t.atttypmod) from pg_attribute t
           where t.attrelid = 'public.broadcasts_messages'::regclass and t.attname = col.name) <> col.type
         or (select t.attgenerated <> '' from pg_attribute t where t.attrelid = 'public.broadcasts_messages'::regclass and t.attname = col.name) then
        raise exception 'your column broadcasts_messages.% (%) clashes with the tracker''s column of that name: rename it, then run the migration again', col.name, col.type;
      end if;
    else
      execute format('alter table public.broadcasts_messages add column %I %s%s', col.name, col.type,
                     coalesce(' default ' || col.default_value, ''));
    end if;
    user_columns := user_columns || quote_ident(col.name);
  end loop;

  -- The guide's local-time bug: how far the first status leads created_at, across the rows.
  execute format($q$
    with leads as (
      select extract(epoch from least(pg_temp.guide_time(status ->> 'sent'), pg_temp.guide_time(status ->> 'delivered'),
                                      pg_temp.guide_time(status ->> 'read'), pg_temp.guide_time(status ->> 'failed'))
                                - created_at) as lead
        from %s where created_at is not null
    )
    select percentile_cont(0.5) within group (order by lead) from leads where lead is not null$q$, guide)
    into lead_median;
  if lead_median is not null and abs(lead_median) >= 900 and round(lead_median / 900) * 900 between -43200 and 50400 then
    shift_seconds := (round(lead_median / 900) * 900)::integer;
    execute format($q$
      select case when count(*) >= 10 then avg((abs(extract(epoch from least(pg_temp.guide_time(status ->> 'sent'), pg_temp.guide_time(status ->> 'delivered'),
                                                pg_temp.guide_time(status ->> 'read'), pg_temp.guide_time(status ->> 'failed'))
                              - created_at) - %s) < 600)::int) end
        from %s
       where created_at is not null and coalesce(status ->> 'sent', status ->> 'delivered', status ->> 'read', status ->> 'failed') is not null$q$,
      shift_seconds, guide)
      into agreeing;
    if coalesce(agreeing, 0) < 0.9 then
      shift_seconds := 0;
    else
      raise notice 'adoption: the guide''s times lead created_at by % s in % %% of the rows (its local-time bug): every time is moved % by % s',
        shift_seconds, round((agreeing * 100)::numeric, 1),
        case when shift_seconds > 0 then 'back' else 'forward' end, abs(shift_seconds);
    end if;
  end if;

  execute format($q$
    insert into public.broadcasts_messages
      (id, message_id, phone_number, reported_sent_at, reported_delivered_at, reported_read_at, failed_at, created_at, updated_at%1$s)
    select id, message_id, phone_number,
           pg_temp.guide_time(status ->> 'sent') - make_interval(secs => %2$s),
           pg_temp.guide_time(status ->> 'delivered') - make_interval(secs => %2$s),
           pg_temp.guide_time(status ->> 'read') - make_interval(secs => %2$s),
           pg_temp.guide_time(status ->> 'failed') - make_interval(secs => %2$s),
           coalesce(created_at, now()), coalesce(updated_at, created_at, now())%1$s
      from %3$s$q$,
    coalesce(nullif(', ' || array_to_string(user_columns, ', '), ', '), ''), shift_seconds, guide);
  get diagnostics moved = row_count;

  execute format($q$
    select count(*) from %s, jsonb_each_text(case when jsonb_typeof(status) = 'object' then status else '{}' end) as s(stage, value)
     where s.stage in ('sent', 'delivered', 'read', 'failed') and pg_temp.guide_time(s.value) is null$q$, guide)
    into unreadable;
  if unreadable > 0 then
    raise notice 'adoption: % status values were not times and were left out', unreadable;
  end if;

  perform setval(pg_get_serial_sequence('public.broadcasts_messages', 'id'),
                 greatest((select max(id) from public.broadcasts_messages), 1));
  execute format('drop table %s', guide);
  raise notice 'adoption: % rows of the original guide''s table imported with % column(s) of your own', moved, cardinality(user_columns);
end;
$$;
