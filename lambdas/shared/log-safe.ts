import { maskUserId } from '../domain/user-id';

/**
 * What may be logged of an error. PostgreSQL's error context quotes the JSON around a fault (the status beside a
 * bad character, phone number included) and Powertools' logger copies every field of an Error it is given, so an
 * error is never logged as is: only its name, its SQLSTATE or error code and its message, with anything that
 * looks like a phone number or a WhatsApp user id masked. Detail, context (`where`), hint, query and cause are left out.
 */

export interface SafeError {
  name: string;
  message: string;
  /** SQLSTATE for a database error (e.g. `22P05`), the AWS error code, or a Node system error code. */
  code?: string;
}

/** Seven or more digits in a row, or a `+` and seven or more digits with single spaces or hyphens between them. */
const PHONE_LIKE = /\+\d(?:[ -]?\d){6,}|\d{7,}/g;
/** A business-scoped user id (lambdas/domain/user-id.ts) of six or more characters after the country. */
const USER_ID_LIKE = /\b[A-Z]{2}\.(?:ENT\.)?[A-Za-z0-9]{6,128}\b/g;
const MAX_MESSAGE_CHARS = 300;

/** Whether `text` holds what `maskPhoneLike` masks as a WhatsApp user id. */
export const holdsUserIdLike = (text: string): boolean => new RegExp(USER_ID_LIKE.source).test(text);

/**
 * `text` with every phone-like digit run masked as `maskPhone` does (the first two and last two digits kept), and
 * every WhatsApp user id as `maskUserId` does: a user id identifies a person as a phone number does.
 */
export function maskPhoneLike(text: string): string {
  return text
    .replace(USER_ID_LIKE, (match) => maskUserId(match) ?? '')
    .replace(PHONE_LIKE, (match) => {
      const digits = match.replace(/\D/g, '');
      return `${match.startsWith('+') ? '+' : ''}${digits.slice(0, 2)}${'*'.repeat(digits.length - 4)}${digits.slice(-2)}`;
    });
}

/** The loggable part of any thrown value (see the file's comment). */
export function safeError(error: unknown): SafeError {
  if (!(error instanceof Error))
    return { name: 'NonError', message: maskPhoneLike(String(error)).slice(0, MAX_MESSAGE_CHARS) };
  const code = (error as { code?: unknown }).code;
  return {
    name: error.name,
    // Masked, then cut: cut first, a number split at the cut kept up to six of its digits, too few to be masked.
    message: maskPhoneLike(error.message).slice(0, MAX_MESSAGE_CHARS),
    ...(typeof code === 'string' && code !== '' ? { code } : {}),
  };
}
