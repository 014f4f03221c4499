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
-- Now erase_recipient also takes every spelling in the table whose digits are the number's (with or without a
-- leading 00), from the rows not already written as + and digits, and erases their rows with the others (0032's
-- erase_recipient_rows, unchanged: it then follows the user ids seen beside them). A number written without its
-- country code (098000 00302) is not matched: it could be anyone's in another country.
--
-- What it costs: one pass over the table per erasure (no index holds the digits of a number; one would cost every
-- write). Measured on 1,000,000 rows: docs/operate.md. Erasure is rare and runs on DATABASE_URL directly.
-- Same signature as 0017, so its grants stay. Forward-only and re-runnable, like the others.

create or replace function public.erase_recipient(phone text, reference text default null)
returns bigint
language plpgsql
set search_path = public, pg_temp
as $$
declare
  digits text;
  spellings text[];
begin
  if phone is null or phone !~ '^\+\d{1,20}$' then
    raise exception 'erase_recipient: phone must be + and digits, as stored (e.g. +919876543210)' using errcode = '22023';
  end if;
  digits := substr(phone, 2);
  select coalesce(array_agg(distinct m.phone_number), '{}') into spellings
    from public.broadcasts_messages m
   where m.phone_number !~ '^\+\d+$'
     and regexp_replace(m.phone_number, '\D', '', 'g') in (digits, '00' || digits);
  return public.erase_recipient_rows(array[phone] || spellings, '{}', reference);
end;
$$;
