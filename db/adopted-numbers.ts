/**
 * The original guide stored a number as Meta's `recipient_id` gives it (`919876543210`); the tracker writes
 * `+digits` (lambdas/domain/phone.ts), and its merge keeps the lower of two spellings of a row's number, so `+` wins
 * as soon as a status for an adopted message arrives. An adopted table holds both spellings of one person until this
 * is run, once, by the user (docs/adoption.md#phone-numbers-after-the-adoption): it is not part of the migrations,
 * because a number the user's own code stored without its country code would be given a wrong one.
 */
export const PLUS_ADOPTED_NUMBERS_SQL =
  "update public.broadcasts_messages set phone_number = '+' || phone_number where phone_number ~ '^[0-9]+$';";
