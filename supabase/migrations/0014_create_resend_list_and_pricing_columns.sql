-- The re-send list that knows which failures a re-send cannot fix, and what messages cost.
--
-- 1. Meta's per-message pricing (since July 2025: pricing.pricing_model "PMP", pricing.category, pricing.type,
--    pricing.billable) as columns, derived from the kept `pricing` JSONB like error_code is from `failure`.
--
--    Adding a stored generated column rewrites the table, under an ACCESS EXCLUSIVE lock: on a large table the
--    processor's writes wait (they stay on the queue and are retried) while it runs. The four columns are added in
--    one statement, so the table is rewritten once. Measured on PostgreSQL 15 on the project's 2-core machine:
--    see docs/adoption.md ("Pricing columns"). Run it at a quiet hour on a large table.
--    PostgreSQL 15 has no virtual generated columns; the report's queries read the period's rows by sent_at (an
--    index) and group by these columns, so they need no index of their own.
--
-- 2. resend_list(): the follow-up list of messages to send again. It holds the messages sent but neither delivered
--    nor failed after `older_than_minutes` (as undelivered_messages() does) and, new, the failed ones whose error
--    a re-send can fix. Failures whose code is in `no_resend_codes` are left out; resend_left_out() counts them by
--    code. The codes are a parameter on purpose: the error catalogue (lambdas/domain/whatsapp-errors.ts) is their
--    one home, and the report passes them in.
--
-- Forward-only and re-runnable, like the others.

alter table public.broadcasts_messages
  add column if not exists pricing_category text generated always as (pricing ->> 'category') stored,
  add column if not exists pricing_type text generated always as (pricing ->> 'type') stored,
  add column if not exists pricing_model text generated always as (pricing ->> 'pricing_model') stored,
  add column if not exists pricing_billable boolean generated always as (
    case when jsonb_typeof(pricing -> 'billable') = 'boolean' then (pricing ->> 'billable')::boolean end) stored;

comment on column public.broadcasts_messages.pricing_category is
  'pricing.category: marketing, utility, authentication, authentication_international, service, marketing_lite, referral_conversion...';
comment on column public.broadcasts_messages.pricing_type is
  'pricing.type (per-message pricing): regular, free_customer_service, free_entry_point';
comment on column public.broadcasts_messages.pricing_model is 'pricing.pricing_model: PMP since July 2025 (CBP before)';
comment on column public.broadcasts_messages.pricing_billable is
  'pricing.billable; null when Meta did not send it (it is deprecated in newer API versions: read pricing_type)';

-- Messages to send again: not delivered and either still waiting after `older_than_minutes`, or failed with an
-- error a re-send can fix (an unknown or missing code counts as fixable: only known dead ends are left out).
-- Dropped first: 0021 adds a column to its result, and a re-run of this file (psql -f, every file in order) must
-- not fail on the newer signature before 0021 puts it back.
drop function if exists public.resend_list(integer, integer, timestamptz, integer[]);
create function public.resend_list(
  older_than_minutes integer, lookback_hours integer, as_of timestamptz, no_resend_codes integer[])
returns table (
  message_id text, phone_number text, campaign text, sent_at timestamptz, minutes_waiting numeric,
  failed_at timestamptz, error_code integer)
language sql stable
set search_path = public, pg_temp
as $$
  select m.message_id, m.phone_number, m.campaign, m.sent_at,
         round(extract(epoch from as_of - coalesce(m.sent_at, m.failed_at)) / 60, 1),
         m.failed_at, m.error_code
    from public.broadcasts_messages m
   where ((m.sent_at >= as_of - make_interval(hours => lookback_hours) and m.sent_at < as_of)
       or (m.sent_at is null and m.failed_at >= as_of - make_interval(hours => lookback_hours)
           and m.failed_at < as_of))
     and m.delivered_at is null
     and case when m.failed_at is null then m.sent_at < as_of - make_interval(mins => older_than_minutes)
              else coalesce(m.error_code <> all(coalesce(no_resend_codes, '{}')), true) end
   order by coalesce(m.sent_at, m.failed_at), m.message_id;
$$;

-- The failures resend_list() leaves out, by error code.
create or replace function public.resend_left_out(lookback_hours integer, as_of timestamptz, no_resend_codes integer[])
returns table (error_code integer, error_title text, messages bigint)
language sql stable
set search_path = public, pg_temp
as $$
  select m.error_code, min(m.error_title), count(*)
    from public.broadcasts_messages m
   where ((m.sent_at >= as_of - make_interval(hours => lookback_hours) and m.sent_at < as_of)
       or (m.sent_at is null and m.failed_at >= as_of - make_interval(hours => lookback_hours)
           and m.failed_at < as_of))
     and m.delivered_at is null
     and m.failed_at is not null
     and m.error_code = any(coalesce(no_resend_codes, '{}'))
   group by m.error_code
   order by 3 desc, 1;
$$;

-- Messages of a period (by sent time, as delivery_report) by campaign and pricing, with the first four digits of
-- the recipient's number: enough to find its country calling code (1 to 3 digits) against a rate card, without
-- returning numbers.
create or replace function public.pricing_breakdown(period_start timestamptz, period_end timestamptz)
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

do $$
declare
  fn text;
begin
  foreach fn in array array[
    'resend_list(integer, integer, timestamptz, integer[])',
    'resend_left_out(integer, timestamptz, integer[])',
    'pricing_breakdown(timestamptz, timestamptz)']
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
