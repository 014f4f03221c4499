-- Erasure finds a number however it was written in the table (issue 15; found by a probe of erasure as operators
-- would run it: test/integration/erase-recipient.test.ts).
--
-- The webhooks' numbers are stored as + and digits (lambdas/domain/phone.ts), and erase_recipient matched that text
-- exactly. Two kinds of rows keep a number as it was written: rows adopted from the original guide's table (0010
-- copies phone_number as it was; Meta's recipient_id and AiSensy's phone_number carry no +), and rows a user's own
-- sending code inserted before any webhook (a supported pattern, docs/adoption.md), which may hold spaces or dashes;
-- the merge keeps the lower of two spellings, so `+91 98000 00302` stays beside a webhook's `+919800000302`. For such
-- a person `npm run erase` anonymised nothing and said "0 message row(s)": their number stayed.
--
-- Now:
--   * broadcasts_phone_spellings(phone): the spellings in the table, other than + and digits, whose digits are the
--     number's: written with + (`+91 98765-43210`), with 00 (`0091 98765 43210`), or bare (`919876543210`), each
--     flagged `bare` when it has neither.
--   * erase_recipient(phone, reference, with_bare_digits) erases the rows of the number and of its + and 00
--     spellings, and of its bare ones only when asked. A bare spelling is how Meta and the original guide wrote a
--     number with its country code, but also how a number without one looks: `4791234567` is a US number written
--     without its 1 as much as Norway's +47 91234567, and erasing follows the user ids on the rows it reaches, so a
--     wrong match would erase a second person. `npm run erase` says how many rows hold the bare spelling and how to
--     include them (review of this change).
--   A number written without its country code (`098765 43210`) is never matched.
--
-- What it costs: one pass over the table per call (no index holds the digits of a number; one would cost every
-- write): 1.1-1.5 s an erasure on 1,000,000 rows (docs/operate.md). Erasure is rare and runs on DATABASE_URL directly.
-- 0017's erase_recipient(text, text) is replaced (a third argument with a default beside it would make a call with
-- two ambiguous), so the grants are given again. Forward-only and re-runnable, like the others.

create or replace function public.broadcasts_phone_spellings(phone text)
returns table (spelling text, bare boolean)
language sql
stable
set search_path = public, pg_temp
as $$
  select distinct m.phone_number, m.phone_number !~ '^\s*(\+|00)'
    from public.broadcasts_messages m
   where m.phone_number !~ '^\+\d+$'
     and regexp_replace(m.phone_number, '\D', '', 'g')
         = case when m.phone_number ~ '^\s*00' then '00' else '' end || substr(phone, 2);
$$;

drop function if exists public.erase_recipient(text, text);
create or replace function public.erase_recipient(
  phone text, reference text default null, with_bare_digits boolean default false)
returns bigint
language plpgsql
set search_path = public, pg_temp
as $$
declare
  spellings text[];
begin
  if phone is null or phone !~ '^\+\d{1,20}$' then
    raise exception 'erase_recipient: phone must be + and digits, as stored (e.g. +919876543210)' using errcode = '22023';
  end if;
  select coalesce(array_agg(s.spelling), '{}') into spellings
    from public.broadcasts_phone_spellings(phone) s
   where not s.bare or coalesce(with_bare_digits, false);
  return public.erase_recipient_rows(array[phone] || spellings, '{}', reference);
end;
$$;

revoke execute on function public.broadcasts_phone_spellings(text) from public;
revoke execute on function public.erase_recipient(text, text, boolean) from public;
do $$
begin
  if exists (select 1 from pg_roles where rolname = 'anon') then
    execute 'revoke execute on function public.broadcasts_phone_spellings(text) from anon, authenticated';
    execute 'revoke execute on function public.erase_recipient(text, text, boolean) from anon, authenticated';
  end if;
  if exists (select 1 from pg_roles where rolname = 'service_role') then
    execute 'grant execute on function public.broadcasts_phone_spellings(text) to service_role';
    execute 'grant execute on function public.erase_recipient(text, text, boolean) to service_role';
  end if;
end;
$$;
