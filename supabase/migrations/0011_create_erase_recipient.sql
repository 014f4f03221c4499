-- Erasure on request (GDPR art. 17, India's DPDP Act 2023 s. 12): `erase_recipient('+919876543210', 'ticket-42')`
-- anonymises every message row of one phone number and records that an erasure happened, without the number.
--
-- Anonymised rather than deleted, so past delivery figures stay right: the times, stages, campaign and error code
-- stay; what identifies the person goes: the phone number, the WhatsApp message id (a wamid carries the recipient's
-- number, base64-encoded), the provider's own id, the conversation and pricing objects, and the failure's free text.
-- A webhook that arrives later for an erased message creates a new row (its id no longer matches): run the erasure
-- again after the provider's retries have stopped if that matters. Idempotent: a second call finds nothing.

create table if not exists public.erasure_log (
  id bigint generated always as identity primary key,
  erased_at timestamptz not null default now(),
  rows_erased bigint not null,
  -- The request's reference (a ticket number), never the phone number.
  reference text
);
alter table public.erasure_log enable row level security;

create or replace function public.erase_recipient(phone text, reference text default null)
returns bigint
language plpgsql
set search_path = public, pg_temp
as $$
declare
  erased bigint;
begin
  if phone is null or phone !~ '^\+\d{1,20}$' then
    raise exception 'erase_recipient: phone must be + and digits, as stored (e.g. +919876543210)' using errcode = '22023';
  end if;
  update public.broadcasts_messages
     set phone_number = null,
         message_id = 'erased:' || id,
         provider_message_id = null,
         conversation = null,
         pricing = null,
         failure = case when failure is null then null
                        else jsonb_strip_nulls(jsonb_build_object('code', failure -> 'code', 'title', failure -> 'title')) end,
         updated_at = now()
   where phone_number = phone;
  get diagnostics erased = row_count;
  insert into public.erasure_log (rows_erased, reference) values (erased, reference);
  return erased;
end;
$$;

revoke execute on function public.erase_recipient(text, text) from public;
revoke all on table public.erasure_log from public;
do $$
begin
  if exists (select 1 from pg_roles where rolname = 'anon') then
    execute 'revoke execute on function public.erase_recipient(text, text) from anon, authenticated';
    execute 'revoke all on table public.erasure_log from anon, authenticated';
    execute format('revoke all on sequence %s from anon, authenticated', pg_get_serial_sequence('public.erasure_log', 'id'));
  end if;
  if exists (select 1 from pg_roles where rolname = 'service_role') then
    execute 'grant execute on function public.erase_recipient(text, text) to service_role';
    execute 'grant select, insert on table public.erasure_log to service_role';
  end if;
end;
$$;
