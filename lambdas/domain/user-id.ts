import { maskPhone } from './phone';

/**
 * WhatsApp's business-scoped user ids (BSUID), sent since 2026 beside or instead of the phone number: a two-letter
 * ISO country code, a period and up to 128 letters and digits (`IN.1648738043044942`); a parent BSUID, shared by the
 * portfolios of one enterprise, has `ENT.` after the country (`US.ENT.11815799212886844830`). Sources: Meta,
 * "Business-scoped user IDs" (developers.facebook.com/documentation/business-messaging/whatsapp/business-scoped-user-ids,
 * updated 2026-03-31); 360dialog, "Usernames & BSUID" (docs.360dialog.com/docs/resources/phone-numbers/usernames-and-bsuid).
 *
 * A user who adopts a username may have no phone number in a webhook at all: the user id is then the only way to
 * know who a message went to, and to send them the next one.
 */
export const USER_ID = /^[A-Z]{2}\.(?:ENT\.)?[A-Za-z0-9]{1,128}$/;

/** The user id as stored, or undefined when the value is not one (the status is kept; only this field is not). */
export function normalizeUserId(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const id = value.trim();
  return USER_ID.test(id) ? id : undefined;
}

/** For logs and masked reports, like maskPhone: the country and the last two characters, e.g. `IN.************42`. */
export function maskUserId(id: string | undefined): string | undefined {
  if (!id) return id;
  const dot = id.lastIndexOf('.');
  const prefix = id.slice(0, dot + 1);
  const rest = id.slice(dot + 1);
  if (rest.length <= 4) return `${prefix}${'*'.repeat(rest.length)}`;
  return `${prefix}${'*'.repeat(rest.length - 2)}${rest.slice(-2)}`;
}

/**
 * A recipient as reports name one (a phone, else a user id), masked the way its kind is. One already masked (a report
 * the running `npm start` served) is returned as it is: masked again, `+91********99` would read `+****`.
 */
export function maskRecipient(recipient: string | null | undefined): string | undefined {
  if (!recipient) return undefined;
  if (recipient.includes('*')) return recipient;
  return USER_ID.test(recipient) ? maskUserId(recipient) : maskPhone(recipient);
}
