-- Account and template health (issue 14, item 3): the Meta webhooks that stop campaigns, kept append-only.
--
-- phone_number_quality_update (a number flagged for low quality, a lower or higher messaging limit),
-- message_template_status_update (approved, paused, disabled...), message_template_quality_update (GREEN, YELLOW,
-- RED), account_alerts, account_update (restrictions, bans, violations) and business_capability_update arrive on the
-- same webhook as the statuses. The ingest classifies each (lambdas/domain/account-events.ts) and queues it; the
-- processor records it here with record_account_events() and notifies the alert topics of the ones it recorded for
-- the first time. The current state of each number and template is a view over the log.

create table if not exists public.account_events (
  id bigint generated always as identity primary key,
  field text not null,                 -- Meta's webhook field
  waba_id text,                        -- entry[].id
  occurred_at timestamptz not null,    -- entry[].time
  subject_type text not null check (subject_type in ('phone_number', 'template', 'account')),
  subject_id text,                     -- +digits, a template id, or an account's id
  subject_name text,                   -- a template's name (language)
  event text not null,                 -- FLAGGED, DOWNGRADE, PAUSED, DISABLED, RED, ACCOUNT_RESTRICTION, an alert type...
  severity text not null check (severity in ('critical', 'warning', 'info')),
  detail jsonb not null,               -- the change's value as Meta sent it (bounded by the ingest)
  recorded_at timestamptz not null default now()
);

comment on table public.account_events is
  'Meta account and template health webhooks, one row per change, append-only; written by record_account_events().';

-- Meta sends a webhook again until it is answered 200: the same change is the same field, account, time and value.
create unique index if not exists account_events_once
  on public.account_events (field, coalesce(waba_id, ''), occurred_at, md5(detail::text));
create index if not exists account_events_subject_idx
  on public.account_events (subject_type, subject_id, occurred_at desc);

alter table public.account_events enable row level security;

-- Records a batch of events (a JSON array of lambdas/domain/account-events.ts AccountEvent) and returns those it had
-- not seen before: the processor notifies only those, so a webhook Meta retries pages once.
create or replace function public.record_account_events(events jsonb)
returns setof public.account_events
language plpgsql
volatile
set search_path = public, pg_temp
as $$
begin
  if events is null or jsonb_typeof(events) <> 'array' then
    raise exception 'record_account_events: events must be a JSON array' using errcode = '22023';
  end if;
  if exists (
    select 1 from jsonb_array_elements(events) e(value)
     where jsonb_typeof(e.value) <> 'object'
        or coalesce(e.value ->> 'field', '') = ''
        or coalesce(e.value ->> 'event', '') = ''
        or e.value ->> 'occurred_at' is null
        or coalesce(e.value ->> 'severity', '') not in ('critical', 'warning', 'info')
        or coalesce(e.value ->> 'subject_type', '') not in ('phone_number', 'template', 'account')
        or jsonb_typeof(e.value -> 'detail') is distinct from 'object'
  ) then
    raise exception 'record_account_events: an event is invalid' using errcode = '22023';
  end if;
  return query
  insert into public.account_events as a (
    field, waba_id, occurred_at, subject_type, subject_id, subject_name, event, severity, detail)
  select distinct on (e.field, coalesce(e.waba_id, ''), e.occurred_at, md5(e.detail::text))
         e.field, nullif(e.waba_id, ''), e.occurred_at, e.subject_type, nullif(e.subject_id, ''),
         nullif(e.subject_name, ''), e.event, e.severity, e.detail
    from jsonb_to_recordset(events) as e(
           field text, waba_id text, occurred_at timestamptz, subject_type text, subject_id text, subject_name text,
           event text, severity text, detail jsonb)
  on conflict (field, coalesce(waba_id, ''), occurred_at, md5(detail::text)) do nothing
  returning a.*;
end;
$$;

-- Each business number as Meta last described it: its last quality event (FLAGGED or UNFLAGGED) and its last known
-- messaging limit. A number never flagged shows no quality event.
create or replace view public.phone_number_health as
select n.subject_id as phone_number,
       q.event as quality_event,
       q.occurred_at as quality_since,
       l.messaging_limit,
       l.occurred_at as limit_since,
       last_event.event as last_event,
       last_event.severity as last_severity,
       last_event.occurred_at as last_event_at
  from (select distinct subject_id from public.account_events
         where subject_type = 'phone_number' and subject_id is not null) n
  left join lateral (
    select a.event, a.occurred_at from public.account_events a
     where a.subject_type = 'phone_number' and a.subject_id = n.subject_id
       and a.field = 'phone_number_quality_update' and a.event in ('FLAGGED', 'UNFLAGGED')
     order by a.occurred_at desc, a.id desc limit 1) q on true
  left join lateral (
    select coalesce(a.detail ->> 'max_daily_conversations_per_business', a.detail ->> 'current_limit') as messaging_limit,
           a.occurred_at
      from public.account_events a
     where a.subject_type = 'phone_number' and a.subject_id = n.subject_id
       and coalesce(a.detail ->> 'max_daily_conversations_per_business', a.detail ->> 'current_limit') is not null
     order by a.occurred_at desc, a.id desc limit 1) l on true
  left join lateral (
    select a.event, a.severity, a.occurred_at from public.account_events a
     where a.subject_type = 'phone_number' and a.subject_id = n.subject_id
     order by a.occurred_at desc, a.id desc limit 1) last_event on true;

-- Each template as Meta last described it: its status (APPROVED, PAUSED, DISABLED...) and its quality score.
create or replace view public.template_health as
select t.subject_id as template_id,
       coalesce(s.subject_name, q.subject_name) as template,
       s.event as status,
       s.occurred_at as status_since,
       s.detail ->> 'reason' as reason,
       q.event as quality,
       q.occurred_at as quality_since
  from (select distinct subject_id from public.account_events
         where subject_type = 'template' and subject_id is not null) t
  left join lateral (
    select a.event, a.occurred_at, a.subject_name, a.detail from public.account_events a
     where a.subject_type = 'template' and a.subject_id = t.subject_id and a.field = 'message_template_status_update'
     order by a.occurred_at desc, a.id desc limit 1) s on true
  left join lateral (
    select a.event, a.occurred_at, a.subject_name from public.account_events a
     where a.subject_type = 'template' and a.subject_id = t.subject_id and a.field = 'message_template_quality_update'
     order by a.occurred_at desc, a.id desc limit 1) q on true;

alter view public.phone_number_health set (security_invoker = true);
alter view public.template_health set (security_invoker = true);

revoke execute on function public.record_account_events(jsonb) from public;
revoke all on table public.account_events from public;
do $$
begin
  if exists (select 1 from pg_roles where rolname = 'anon') then
    execute 'revoke execute on function public.record_account_events(jsonb) from anon, authenticated';
    execute 'revoke all on table public.account_events from anon, authenticated';
    execute 'revoke all on public.phone_number_health, public.template_health from anon, authenticated';
    execute format('revoke all on sequence %s from anon, authenticated', pg_get_serial_sequence('public.account_events', 'id'));
  end if;
  if exists (select 1 from pg_roles where rolname = 'service_role') then
    execute 'grant execute on function public.record_account_events(jsonb) to service_role';
    execute 'grant select, insert on table public.account_events to service_role';
    execute 'grant select on public.phone_number_health, public.template_health to service_role';
  end if;
end;
$$;
