/**
 * The original guide stored a number as Meta's `recipient_id` gives it (`919876543210`); the tracker writes
 * `+digits` (lambdas/domain/phone.ts), and its merge keeps the lower of two spellings of a row's number, so `+` wins
 * as soon as a status for an adopted message arrives. An adopted table holds both spellings of one person until this
 * is run by the user, repeated until it updates no row (docs/adoption.md#phone-numbers-after-the-adoption). It is not
 * part of the migrations, because a number the user's own code stored without its country code would be given a wrong
 * one. Only digits that can be a number with its country code (7 to 15, not starting with 0) are changed, and a
 * leading 00 becomes the +. Each run takes 10,000 rows locked in message_id order, the order the processor's merge
 * locks them in, so it cannot deadlock with it.
 */
/** The numbers the update changes: 7 to 15 digits not starting with 0, after an optional 00. */
const ADOPTED_NUMBER = `phone_number ~ '^(00)?[1-9][0-9]{6,14}$'`;

export const PLUS_ADOPTED_NUMBERS_SQL = `with batch as (
  select id from public.broadcasts_messages
   where ${ADOPTED_NUMBER}
   order by message_id limit 10000
     for update)
update public.broadcasts_messages m
   set phone_number = '+' || regexp_replace(m.phone_number, '^00', '')
  from batch where m.id = batch.id;`;

/** The rows the update above would still change. */
export const ADOPTED_NUMBERS_LEFT_SQL = `select count(*)::int as n from public.broadcasts_messages where ${ADOPTED_NUMBER}`;
