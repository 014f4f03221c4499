/**
 * The WhatsApp error catalogue: for each error code a failed status can carry, Meta's title, what it means, what to
 * do, and whether re-sending the same message can succeed, and when. The one place these facts live: the report's
 * failures section, the re-send list (which leaves out the codes marked `never`), the failure-spike notification
 * and the daily summary all read it.
 *
 * Titles are Meta's (they also arrive in each failure's `title`); meanings and remedies are written here from the
 * sources each entry names. Meta adds and retires codes: an unknown code is reported as such, with a link to
 * Meta's page, and stays in the re-send list (we only leave out what we know cannot succeed).
 */

/** Where each fact comes from; cited by key in every entry. */
export const ERROR_SOURCES = {
  /** Meta's Cloud API error codes page: titles, descriptions, possible solutions (its newer address: metaNew). */
  meta: 'https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes',
  metaNew: 'https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes',
  /** The On-Premises API's codes (470, 471, 472, 1026...), which older providers still forward. */
  metaOnPremises: 'https://developers.facebook.com/docs/whatsapp/on-premises/errors',
  /** Customer service windows (131047, 470): free-form messages only within 24 hours of the user's last message. */
  metaServiceWindow:
    'https://developers.facebook.com/documentation/business-messaging/whatsapp/messages/send-messages#customer-service-windows',
  /** A public SDK's table of Meta's titles, Cloud API and On-Premises, used to check the titles here. */
  sdkTitles:
    'https://github.com/great-detail/WhatsApp-Nodejs-SDK/blob/3917b65786d0daeb7225abb75391ba2f940d90e6/src/Error.ts',
} as const;
export type ErrorSource = keyof typeof ERROR_SOURCES;

/**
 * Whether re-sending the same message to the same recipient can succeed:
 * - `now`: yes, at once (a passing fault);
 * - `later`: yes, but not now: wait (`when` says how long) or Meta refuses it again;
 * - `after-fix`: yes, once something on the business's side is fixed (template, media, account, payment);
 * - `never`: no; the re-send list leaves these out and says why.
 */
export type ResendChance = 'now' | 'later' | 'after-fix' | 'never';

export interface WhatsAppError {
  code: number;
  /** Meta's title. */
  title: string;
  meaning: string;
  /** What to do, in one or two sentences. */
  action: string;
  resend: ResendChance;
  /** When a re-send can succeed, or why it cannot. */
  when: string;
  sources: readonly ErrorSource[];
}

const e = (
  code: number,
  title: string,
  meaning: string,
  action: string,
  resend: ResendChance,
  when: string,
  sources: readonly ErrorSource[] = ['meta'],
): WhatsAppError => ({ code, title, meaning, action, resend, when, sources });

const META = ['meta', 'metaNew', 'sdkTitles'] as const;
const ON_PREM = ['metaOnPremises', 'sdkTitles'] as const;

export const WHATSAPP_ERRORS: readonly WhatsAppError[] = [
  // --- Delivery to the recipient ---------------------------------------------------------------------------------
  e(
    131026,
    'Message Undeliverable',
    'WhatsApp could not deliver to this number: it is not on WhatsApp, has not accepted the latest terms, uses a WhatsApp version too old for the message, or cannot receive business messages.',
    'Do not resend. Mark the contact as unreachable on WhatsApp and reach it another way; ask the user to update WhatsApp if they are a customer you talk to.',
    'never',
    'not by re-sending: the recipient must install, update or re-accept WhatsApp first',
    META,
  ),
  e(
    131047,
    'Re-engagement message',
    'More than 24 hours have passed since the recipient last wrote to the business: only a template message may be sent.',
    'Send an approved template message instead of a free-form one.',
    'after-fix',
    'as an approved template, at any time',
    [...META, 'metaServiceWindow'],
  ),
  e(
    131049,
    'This message was not delivered to maintain healthy ecosystem engagement.',
    "Meta's per-user marketing limits: the recipient has received enough marketing messages (from any business) for now.",
    'Do not retry now: Meta limits how many marketing messages a user receives. Retry later (a day is a safe wait), or send only to recently engaged users.',
    'later',
    'later, not now: wait (a day is a safe minimum) before re-sending',
    META,
  ),
  e(
    131050,
    'Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business.',
    'The user turned off marketing messages from this business.',
    'Do not resend marketing messages; remove the user from marketing lists (the user_preferences webhook says when they opt in again).',
    'never',
    'not for marketing: the user stopped marketing messages from this business',
    META,
  ),
  e(
    130472,
    "User's number is part of an experiment",
    "The recipient is in Meta's marketing message experiment hold-out: marketing messages to them are not delivered (and not charged).",
    'Do not resend the marketing message; nothing is wrong with the number or the template.',
    'never',
    'not while the recipient is in the experiment',
    META,
  ),
  e(
    131021,
    'Recipient cannot be sender',
    'The message was sent to the business phone number itself.',
    "Do not resend; remove the business's own number from the audience.",
    'never',
    'never: a number cannot message itself',
    META,
  ),
  e(
    131051,
    'Unsupported message type',
    'The message type is not supported (for example, by the recipient or in this context).',
    'Send a supported message type; re-sending the same message fails the same way.',
    'never',
    'not as the same message: change its type',
    META,
  ),
  e(
    131052,
    'Media download error',
    "Media a user sent could not be downloaded: it concerns incoming messages, not the business's sends.",
    'Ask the user to send the media again, by another means if it keeps failing.',
    'never',
    'not by the business: the user must send the media again',
    META,
  ),
  e(
    131053,
    'Media upload error',
    'The media of the message (image, video, document) could not be uploaded: the URL, the type or the size is not accepted.',
    'Check the media URL is public and the type and size are supported, then resend.',
    'after-fix',
    'after the media is fixed',
    META,
  ),
  e(
    131043,
    'Message expired',
    'The message was not delivered before its time to live ran out.',
    'Resend if the message still matters.',
    'now',
    'now, if it is still relevant',
    META,
  ),
  e(
    130497,
    'Business account is restricted from messaging users in this country.',
    "The business's category may not message users in the recipient's country.",
    "Do not resend to that country; see WhatsApp's Business Messaging Policy for the countries allowed.",
    'never',
    "not to this country under the business's current category",
    META,
  ),
  // --- Rate limits -----------------------------------------------------------------------------------------------
  e(
    130429,
    'Rate limit hit',
    "Cloud API's message throughput for the number was reached.",
    'Lower the send rate (or spread the broadcast), then resend.',
    'later',
    'in a few minutes, at a lower send rate',
    META,
  ),
  e(
    131048,
    'Spam rate limit hit',
    'Sending from this number is restricted because too many earlier messages were blocked or reported as spam.',
    "Check the number's quality rating in WhatsApp Manager; improve the template and the audience before sending more.",
    'after-fix',
    "after the number's quality recovers",
    META,
  ),
  e(
    131056,
    '(Business Account, Consumer Account) pair rate limit hit',
    'Too many messages from the business number to the same recipient in a short time.',
    'Space out messages to each recipient, then resend.',
    'later',
    'after a pause (minutes), not at once',
    META,
  ),
  // --- Account, payment, integrity --------------------------------------------------------------------------------
  e(
    368,
    'Temporarily blocked for policies violations',
    'The WhatsApp Business Account is restricted or disabled for violating a platform policy.',
    "Nothing sends until Meta lifts the restriction: see Meta's policy enforcement page, appeal in Business Support Home.",
    'after-fix',
    'only after the restriction is lifted',
    META,
  ),
  e(
    131031,
    'Account has been locked',
    'The business account is locked: a policy violation, or data (such as the two-step PIN) could not be verified.',
    'Check the account status in WhatsApp Manager and contact Meta support; nothing sends until it is unlocked.',
    'after-fix',
    'only after the account is unlocked',
    META,
  ),
  e(
    131042,
    'Business eligibility payment issue',
    'A problem with the payment method: no valid method, credit line exceeded, or the account is not set up for payment.',
    'Fix the payment method in WhatsApp Manager (billing settings), then resend.',
    'after-fix',
    'after the payment method is fixed',
    META,
  ),
  e(
    131045,
    'Incorrect certificate',
    'The message failed because of a phone number registration error.',
    'Register the phone number again.',
    'after-fix',
    'after the number is registered again',
    META,
  ),
  e(
    131037,
    'WhatsApp provided number needs display name approval before message can be sent.',
    "The business number's display name is not approved yet.",
    'Get the display name approved in WhatsApp Manager.',
    'after-fix',
    'after the display name is approved',
    META,
  ),
  e(
    131057,
    'Account in maintenance mode',
    'The business account is in maintenance mode (for example, during a throughput upgrade).',
    'Wait and resend.',
    'later',
    'in a few minutes',
    META,
  ),
  e(
    133010,
    'Phone number Not Registered',
    'The business phone number is not registered on the WhatsApp Business Platform.',
    'Register the number, then resend.',
    'after-fix',
    'after the number is registered',
    META,
  ),
  e(
    190,
    'Access token has expired',
    "The provider's access token has expired.",
    'Renew the access token, then resend.',
    'after-fix',
    'after the token is renewed',
    META,
  ),
  // --- Request and template ---------------------------------------------------------------------------------------
  e(
    100,
    'Invalid parameter',
    'The request had an unsupported or misspelled parameter.',
    'Fix the request (or ask the provider), then resend.',
    'after-fix',
    'after the request is fixed',
    META,
  ),
  e(
    131008,
    'Required parameter is missing',
    'The request lacked a required parameter.',
    'Fix the request, then resend.',
    'after-fix',
    'after the request is fixed',
    META,
  ),
  e(
    131009,
    'Parameter value is not valid',
    'A parameter value was invalid (for example, the phone number format).',
    'Fix the value, then resend.',
    'after-fix',
    'after the value is fixed',
    META,
  ),
  e(
    132000,
    'Template Param Count Mismatch',
    "The number of variable values does not match the template's variables.",
    'Send the right number of variables.',
    'after-fix',
    'after the variables are fixed',
    META,
  ),
  e(
    132001,
    'Template does not exist',
    'The template does not exist in this language, or is not approved.',
    "Check the template's name, language and approval status.",
    'after-fix',
    'after the template is approved in this language',
    META,
  ),
  e(
    132005,
    'Template Hydrated Text Too Long',
    'The text with its variables filled in is too long.',
    'Shorten the variable values.',
    'after-fix',
    'after the text is shortened',
    META,
  ),
  e(
    132007,
    'Template Format Character Policy Violated',
    "A variable value breaks the template's format rules.",
    'Fix the variable values.',
    'after-fix',
    'after the values are fixed',
    META,
  ),
  e(
    132012,
    'Template Parameter Format Mismatch',
    'Variable values are formatted differently from what the template declares.',
    'Send values in the declared format.',
    'after-fix',
    'after the values are fixed',
    META,
  ),
  e(
    132015,
    'Template is Paused',
    'The template is paused for low quality.',
    'Edit the template (or wait for it to be unpaused), or send another one.',
    'after-fix',
    'after the template is unpaused or replaced',
    META,
  ),
  e(
    132016,
    'Template is Disabled',
    'The template was paused too many times for low quality and is disabled for good.',
    'Create a new template with different content.',
    'after-fix',
    'only with a new template',
    META,
  ),
  e(
    132068,
    'Flow is blocked',
    'The flow in the message is blocked.',
    'Fix the flow.',
    'after-fix',
    'after the flow is fixed',
    META,
  ),
  e(
    132069,
    'Flow is throttled',
    'The flow in the message is throttled.',
    'Wait, or fix the flow.',
    'later',
    'later, when the flow is no longer throttled',
    META,
  ),
  // --- Meta's side ------------------------------------------------------------------------------------------------
  e(
    1,
    'API Unknown',
    'Invalid request or a possible server error.',
    'Check WhatsApp Business Platform status; if there is no outage, check the request.',
    'later',
    'later, once the platform or the request is fine',
    META,
  ),
  e(
    2,
    'API Service',
    'Temporary: downtime or overload.',
    'Check WhatsApp Business Platform status, then resend.',
    'later',
    'in a few minutes',
    META,
  ),
  e(
    131000,
    'Something went wrong',
    'An unknown error on Meta\u2019s side.',
    'Resend; if it persists, contact Meta support.',
    'now',
    'now; if it fails again, later',
    META,
  ),
  e(
    131016,
    'Service unavailable',
    'A service is temporarily unavailable.',
    'Check WhatsApp Business Platform status, then resend.',
    'later',
    'in a few minutes',
    META,
  ),
  e(
    133004,
    'Server Temporarily Unavailable',
    'The server is temporarily unavailable.',
    'Resend later.',
    'later',
    'in a few minutes',
    META,
  ),
  e(
    135000,
    'Generic user error',
    'An unknown error with the request parameters.',
    'Check the request; contact Meta support if it persists.',
    'after-fix',
    'after the request is checked',
    META,
  ),
  // --- On-Premises codes still forwarded by some providers ----------------------------------------------------------
  e(
    470,
    'Re-engagement message',
    'On-Premises code for 131047: more than 24 hours since the recipient last wrote.',
    'Send an approved template message instead.',
    'after-fix',
    'as an approved template, at any time',
    [...ON_PREM, 'metaServiceWindow'],
  ),
  e(
    471,
    'Spam rate limit hit',
    'On-Premises code for 131048: sending restricted for spam reports.',
    "Check the number's quality rating before sending more.",
    'after-fix',
    "after the number's quality recovers",
    ON_PREM,
  ),
  e(
    472,
    "User's number is part of an experiment",
    'On-Premises code for 130472.',
    'Do not resend the marketing message.',
    'never',
    'not while the recipient is in the experiment',
    ON_PREM,
  ),
  e(
    1026,
    'Receiver incapable',
    'On-Premises code: the recipient cannot receive this message (not on WhatsApp, or an old version).',
    'Do not resend; mark the contact.',
    'never',
    'not by re-sending',
    ON_PREM,
  ),
];

const BY_CODE = new Map(WHATSAPP_ERRORS.map((entry) => [entry.code, entry]));

/** The catalogue's entry for a code, or undefined for a code it does not know (or none). */
export function whatsappError(code: number | null | undefined): WhatsAppError | undefined {
  return code === null || code === undefined ? undefined : BY_CODE.get(code);
}

/** What to do about a failure with this code, for any code. */
export function remedy(code: number | null | undefined): string {
  const entry = whatsappError(code);
  if (entry) return entry.action;
  if (code === null || code === undefined) return 'No error code was reported: see the failure details of a message.';
  return `Code ${code} is not in this catalogue: see Meta's error codes page, ${ERROR_SOURCES.meta}`;
}

/** Codes whose re-send cannot succeed: the re-send list leaves them out (the SQL gets them as a parameter). */
export const NO_RESEND_CODES: readonly number[] = WHATSAPP_ERRORS.filter((entry) => entry.resend === 'never').map(
  (entry) => entry.code,
);

/** Whether a re-send of a message that failed with this code can succeed: unknown codes are given the benefit. */
export function resendChance(code: number | null | undefined): ResendChance | 'unknown' {
  return whatsappError(code)?.resend ?? 'unknown';
}
