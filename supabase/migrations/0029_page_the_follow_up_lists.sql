-- The follow-up lists at the size of a page (issue 15): resend_list, resend_left_out and remind_list read the rows
-- they return, not the period's messages.
--
-- Why they grew with the table (EXPLAIN (ANALYZE, BUFFERS) on 1M generated messages, docs/performance.md):
--   * resend_list read every message of the last 24 h (a bitmap of sent_at, 33k rows at 1M, 330k at 10M) to keep the
--     ~1,350 undelivered ones, and sorted them all;
--   * resend_left_out walked the whole failed_at index (every failure the table holds: the OR of "sent in the period"
--     and "failed in it without being sent" matched no range of it) and kept the day's;
--   * both functions, and remind_list, are not inlined (they pin search_path), so the caller's LIMIT (the report's
--     1,000 rows, PostgREST's ?limit) applied only after the function had built its whole result: remind_list
--     returned every unread message of six days (80k rows at 1M) for the report to keep 1,000.
--
-- What changes:
--   * one index (the write path pays for every index: this one holds only the undelivered rows, ~6 % of the table, a
--     row leaves it when it is delivered) on the lists' own order: the period time, sent_at else failed_at (as every
--     report places a message), then message_id. Building it reads the whole table under a SHARE lock, so the
--     processor's writes wait meanwhile (they stay on the queue and are retried): 0.4 s at 1M generated messages;
--     on a much larger table, apply it at a quiet hour or create it `concurrently` by hand first (this then skips it);
--   * a period is the range `coalesce(sent_at, failed_at) in [from, to)`, the same rows as "sent in it, or failed in it
--     without being sent", written so that it is a range of that index;
--   * resend_list and remind_list take `max_rows` (the page size, applied inside) and a keyset cursor: `after_time`
--     and `after_message_id`, the last row of the previous page (remind_list: its delivered_at; resend_list: its
--     sent_at, else failed_at). A page starts at its cursor in the index and stops after max_rows rows, whatever the
--     size of the period. Defaults (null) keep the old calls and results: every row, in the same order.
--     remind_list's order gains message_id after delivered_at, so that a cursor is exact when times tie.
--   * resend_left_out counts the period's failures by code through the same index (its answer counts them: it reads
--     the period's undelivered rows, not the table's failures).
--
-- The cursor is a row comparison, (time, message_id) > (after_time, after_message_id), merged with the period's start
-- into one bound: the functions are planned once for any arguments (a generic plan), and a single row-comparison
-- bound is what lets the index start at the cursor whatever it is. after_time without after_message_id starts at
-- after_time itself, rows at that time included.
--
-- top_recipients is unchanged: it ranks every recipient of the period, so it reads every message of the period (see
-- docs/performance.md for the figures and the limit).
--
-- Forward-only and re-runnable, like the others: the older signatures are dropped (a call with their arguments
-- resolves to the new functions through the defaults; two overloads would make it ambiguous).

create index if not exists broadcasts_messages_undelivered_idx
  on public.broadcasts_messages ((coalesce(sent_at, failed_at)), message_id) where delivered_at is null;

drop function if exists public.resend_list(integer, integer, timestamptz, integer[]);
create or replace function public.resend_list(
  older_than_minutes integer, lookback_hours integer, as_of timestamptz, no_resend_codes integer[],
  max_rows integer default null, after_time timestamptz default null, after_message_id text default null)
returns table (
  message_id text, phone_number text, campaign text, sent_at timestamptz, minutes_waiting numeric,
  failed_at timestamptz, error_code integer, recipient_user_id text)
language sql stable
set search_path = public, pg_temp
as $$
  select m.message_id, m.phone_number, m.campaign, m.sent_at,
         round(extract(epoch from as_of - coalesce(m.sent_at, m.failed_at)) / 60, 1),
         m.failed_at, m.error_code, m.recipient_user_id
    from public.broadcasts_messages m
   where (coalesce(m.sent_at, m.failed_at), m.message_id)
           > (greatest(after_time, as_of - make_interval(hours => lookback_hours)),
              case when after_time >= as_of - make_interval(hours => lookback_hours)
                   then coalesce(after_message_id, '') else '' end)
     and coalesce(m.sent_at, m.failed_at) < as_of
     and m.delivered_at is null
     and case when m.failed_at is null then m.sent_at < as_of - make_interval(mins => older_than_minutes)
              else coalesce(m.error_code <> all(coalesce(no_resend_codes, '{}')), true) end
   order by coalesce(m.sent_at, m.failed_at), m.message_id
   limit max_rows;
$$;

create or replace function public.resend_left_out(lookback_hours integer, as_of timestamptz, no_resend_codes integer[])
returns table (error_code integer, error_title text, messages bigint)
language sql stable
set search_path = public, pg_temp
as $$
  select m.error_code, min(m.error_title), count(*)
    from public.broadcasts_messages m
   where coalesce(m.sent_at, m.failed_at) >= as_of - make_interval(hours => lookback_hours)
     and coalesce(m.sent_at, m.failed_at) < as_of
     and m.delivered_at is null
     and m.failed_at is not null
     and m.error_code = any(coalesce(no_resend_codes, '{}'))
   group by m.error_code
   order by 3 desc, 1;
$$;

drop function if exists public.remind_list(integer, integer, timestamptz);
create or replace function public.remind_list(
  older_than_hours integer default 24, lookback_days integer default 7, as_of timestamptz default now(),
  max_rows integer default null, after_time timestamptz default null, after_message_id text default null)
returns table (message_id text, phone_number text, campaign text, delivered_at timestamptz, hours_unread numeric,
               recipient_user_id text)
language sql stable
set search_path = public, pg_temp
as $$
  select m.message_id, m.phone_number, m.campaign, m.delivered_at,
         round(extract(epoch from as_of - m.delivered_at) / 3600, 1), m.recipient_user_id
    from public.broadcasts_messages m
   where m.read_at is null
     and (m.delivered_at, m.message_id)
           > (greatest(after_time, as_of - make_interval(days => lookback_days)),
              case when after_time >= as_of - make_interval(days => lookback_days)
                   then coalesce(after_message_id, '') else '' end)
     and m.delivered_at < as_of - make_interval(hours => older_than_hours)
   order by m.delivered_at, m.message_id
   limit max_rows;
$$;

do $$
declare
  fn text;
begin
  foreach fn in array array[
    'resend_list(integer, integer, timestamptz, integer[], integer, timestamptz, text)',
    'resend_left_out(integer, timestamptz, integer[])',
    'remind_list(integer, integer, timestamptz, integer, timestamptz, text)']
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
