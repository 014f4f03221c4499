import * as z from 'zod';
import { AccountEvent } from './account-events';
import { StatusUpdate } from './status-update';

/**
 * The body of one queue message: several status updates packed together. Packing keeps a 1,000-status webhook
 * to a handful of SendMessageBatch calls (SQS bills per request) while a message stays a small unit of retry.
 */
export const QueueMessage = z
  .object({
    v: z.literal(1),
    /** Correlates the message with the webhook request that produced it (API Gateway's request id). */
    correlation_id: z.string().max(200).optional(),
    statuses: z.array(StatusUpdate),
    /**
     * Account and template health events (account-events.ts). Absent when there are none, so a message of statuses
     * alone is what it always was.
     */
    account_events: z.array(AccountEvent).optional(),
  })
  .refine((message) => message.statuses.length + (message.account_events?.length ?? 0) > 0, {
    message: 'a queue message carries at least one status or account event',
    path: ['statuses'],
  });
export type QueueMessage = z.infer<typeof QueueMessage>;

/** SQS's hard limits for SendMessageBatch. */
export const SQS_MAX_ENTRIES_PER_BATCH = 10;
/** The queue's default maximum message size, which also bounds a whole SendMessageBatch request. */
export const SQS_DEFAULT_MAX_MESSAGE_BYTES = 262_144;

export interface PackingLimits {
  /** Statuses per queue message: the unit of retry. @default 100 */
  maxStatusesPerMessage?: number;
  /** The queue's maximum message size; also the limit on one SendMessageBatch request's total. @default 262144 */
  maxMessageBytes?: number;
}

/**
 * Packs status updates into message bodies, then the bodies into SendMessageBatch requests, respecting the
 * statuses-per-message, bytes-per-message, entries-per-request and bytes-per-request limits. Pure.
 * Each returned request is an array of message bodies (JSON strings), at most 10 of them.
 */
export function packQueueMessages(
  updates: readonly StatusUpdate[],
  correlationId: string | undefined,
  limits: PackingLimits = {},
  accountEvents: readonly AccountEvent[] = [],
): string[][] {
  const maxItems = limits.maxStatusesPerMessage ?? 100;
  const maxBytes = limits.maxMessageBytes ?? SQS_DEFAULT_MAX_MESSAGE_BYTES;
  // The envelope with both arrays present: a bound on either message shape.
  const envelopeBytes = byteLength(serialize([], [{} as AccountEvent], correlationId)) - 2;

  const bodies: string[] = [];
  let statuses: StatusUpdate[] = [];
  let events: AccountEvent[] = [];
  let currentBytes = envelopeBytes;
  const flush = () => {
    if (statuses.length + events.length) bodies.push(serialize(statuses, events, correlationId));
    statuses = [];
    events = [];
    currentBytes = envelopeBytes;
  };
  const add = <T>(item: T, into: () => T[], what: string) => {
    const bytes = byteLength(toSqsJson(item)) + 1; // + the separating comma
    if (envelopeBytes + bytes > maxBytes) throw new RangeError(`a single ${what} exceeds the queue message size`);
    if (statuses.length + events.length >= maxItems || currentBytes + bytes > maxBytes) flush();
    into().push(item);
    currentBytes += bytes;
  };
  for (const update of updates) add(update, () => statuses, 'status');
  for (const event of accountEvents) add(event, () => events, 'account event');
  flush();

  const requests: string[][] = [];
  let request: string[] = [];
  let requestBytes = 0;
  for (const body of bodies) {
    const bytes = byteLength(body);
    if (request.length >= SQS_MAX_ENTRIES_PER_BATCH || requestBytes + bytes > maxBytes) {
      requests.push(request);
      request = [];
      requestBytes = 0;
    }
    request.push(body);
    requestBytes += bytes;
  }
  if (request.length) requests.push(request);
  return requests;
}

function serialize(
  statuses: readonly StatusUpdate[],
  events: readonly AccountEvent[],
  correlationId: string | undefined,
): string {
  const message: QueueMessage = { v: 1, correlation_id: correlationId, statuses: statuses as StatusUpdate[] };
  if (events.length) message.account_events = events as AccountEvent[];
  return toSqsJson(message);
}

/** Any character outside the set SQS accepts in a message body (XML 1.0's characters); `u`: lone surrogates too. */
const NOT_ACCEPTED_BY_SQS = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/**
 * JSON that SQS accepts as a message body, whatever the strings hold. SQS refuses a message with a character
 * outside `#x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]`. JSON.stringify already
 * escapes control characters and lone surrogates, but writes the noncharacters U+FFFE and U+FFFF raw: those (and,
 * defensively, anything else outside the set) become `\uXXXX` escapes, which JSON.parse reads back as the very same
 * string. Such characters only ever occur inside JSON strings, never next to a backslash, so the escape is exact.
 */
export function toSqsJson(value: unknown): string {
  return JSON.stringify(value).replace(NOT_ACCEPTED_BY_SQS, (char) =>
    Array.from({ length: char.length }, (_, i) => `\\u${char.charCodeAt(i).toString(16).padStart(4, '0')}`).join(''),
  );
}

function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}
