-- Erasure of one person whoever identifies them: a phone number, a WhatsApp user id (BSUID), or both
-- (0011 erased by phone only, and 0016 added user ids that identify a person as a phone does).
--
-- A person is the identifiers that appear together on their rows: erasing by phone also erases the rows that carry
-- only a user id (or parent user id) seen beside that phone, directly or through another row (a username user's
-- later statuses), and erasing by user id also erases the rows of the phones seen beside it. What is anonymised is
-- what 0011 says, plus the user ids; the figures (times, stages, campaign, sender, error code) stay.

create or replace function public.erase_recipient_rows(phones text[], user_ids text[], reference text)
returns bigint
language plpgsql
set search_path = public, pg_temp
as $$
declare
  all_phones text[] := phones;
  all_user_ids text[] := user_ids;
  known integer := -1;
  erased bigint;
begin
  -- The identifiers seen beside the known ones on any row, until no row adds one: a phone leads to its user id,
  -- the user id to its parent id, the parent id to rows that carry only it. A few rounds at most.
  while cardinality(all_phones) + cardinality(all_user_ids) > known loop
    known := cardinality(all_phones) + cardinality(all_user_ids);
    select array(select distinct x from unnest(all_phones || array_agg(m.phone_number)) as x where x is not null),
           array(select distinct x
                   from unnest(all_user_ids || array_agg(m.recipient_user_id) || array_agg(m.recipient_parent_user_id)) as x
                  where x is not null)
      into all_phones, all_user_ids
      from public.broadcasts_messages m
     where m.phone_number = any (all_phones)
        or m.recipient_user_id = any (all_user_ids)
        or m.recipient_parent_user_id = any (all_user_ids);
  end loop;

  update public.broadcasts_messages
     set phone_number = null,
         recipient_user_id = null,
         recipient_parent_user_id = null,
         message_id = 'erased:' || id,
         provider_message_id = null,
         conversation = null,
         pricing = null,
         failure = case when failure is null then null
                        else jsonb_strip_nulls(jsonb_build_object('code', failure -> 'code', 'title', failure -> 'title')) end,
         updated_at = now()
   where phone_number = any (all_phones)
      or recipient_user_id = any (all_user_ids)
      or recipient_parent_user_id = any (all_user_ids);
  get diagnostics erased = row_count;
  insert into public.erasure_log (rows_erased, reference) values (erased, reference);
  return erased;
end;
$$;

-- By phone, as before (same signature, so callers and grants are unchanged).
create or replace function public.erase_recipient(phone text, reference text default null)
returns bigint
language plpgsql
set search_path = public, pg_temp
as $$
begin
  if phone is null or phone !~ '^\+\d{1,20}$' then
    raise exception 'erase_recipient: phone must be + and digits, as stored (e.g. +919876543210)' using errcode = '22023';
  end if;
  return public.erase_recipient_rows(array[phone], '{}', reference);
end;
$$;

-- By WhatsApp user id (the only identifier of a user who adopted a username).
create or replace function public.erase_recipient_user_id(user_id text, reference text default null)
returns bigint
language plpgsql
set search_path = public, pg_temp
as $$
begin
  if user_id is null or user_id !~ '^[A-Z]{2}\.(ENT\.)?[A-Za-z0-9]{1,128}$' then
    raise exception 'erase_recipient_user_id: user_id must be a WhatsApp user id, e.g. IN.1648738043044942'
      using errcode = '22023';
  end if;
  return public.erase_recipient_rows('{}', array[user_id], reference);
end;
$$;

revoke execute on function public.erase_recipient_rows(text[], text[], text) from public;
revoke execute on function public.erase_recipient_user_id(text, text) from public;
do $$
begin
  if exists (select 1 from pg_roles where rolname = 'anon') then
    execute 'revoke execute on function public.erase_recipient_rows(text[], text[], text) from anon, authenticated';
    execute 'revoke execute on function public.erase_recipient_user_id(text, text) from anon, authenticated';
  end if;
  if exists (select 1 from pg_roles where rolname = 'service_role') then
    -- The two entry points run as their caller, so the caller needs the shared body too.
    execute 'grant execute on function public.erase_recipient_rows(text[], text[], text) to service_role';
    execute 'grant execute on function public.erase_recipient_user_id(text, text) to service_role';
  end if;
end;
$$;
