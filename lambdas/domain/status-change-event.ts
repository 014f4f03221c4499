import * as z from 'zod';
import { maskPhone } from './phone';
import { STAGES, Stage, type StatusTimes } from './status-update';
import { maskUserId } from './user-id';

/**
 * Status-change events: one per message whose stage times a batch changed, put on the stack's EventBridge bus after
 * the batch is committed, so other systems subscribe with a rule instead of polling the database (docs/events.md).
 * Pure: the relay builds the events here from the outbox entries it claimed (claim_status_events,
 * supabase/migrations/0023_*), then puts them on the bus.
 */

/** The event's `source`: EventBridge reserves `aws.*`; rules match on it. */
export const STATUS_EVENT_SOURCE = 'whatsapp-delivery-tracker';
/** The event's `detail-type`. */
export const STATUS_CHANGED_DETAIL_TYPE = 'WhatsApp Message Status Changed';
/** Bumped on any change a consumer could notice; additions of optional fields keep it. */
export const STATUS_EVENT_VERSION = '1';

/**
 * What the event says of the recipient's phone number (or, without one, their WhatsApp user id):
 * - `masked` (default): as the logs show it, `+91********10` (country code's first digits and the last two), or
 *   `IN.**************42`;
 * - `omitted`: nothing (`recipient: null`).
 * A `hashed` policy is deliberately not offered: an unsalted hash of a phone number is reversible, since there are
 * only about 10^10-10^12 plausible numbers and a single GPU hashes that many with SHA-256 in minutes, so the hash
 * would be the number. A keyed HMAC would be safe, but its key would have to be shared with every consumer that
 * needs to join on it; that is a separate decision (docs/events.md).
 */
export const RecipientPolicy = z.enum(['masked', 'omitted']);
export type RecipientPolicy = z.infer<typeof RecipientPolicy>;

const StageTimes = z.partialRecord(Stage, z.iso.datetime({ offset: true }));

/** The `detail` of a `WhatsApp Message Status Changed` event (documented in docs/events.md). */
export const StatusChangedDetail = z.strictObject({
  version: z.literal(STATUS_EVENT_VERSION),
  /** WhatsApp's message id (`wamid...`). */
  message_id: z.string().min(1),
  /** The message's status before this change; null when the batch created the row. */
  previous_status: Stage.nullable(),
  /** Its status now: played > read > delivered > failed > sent (docs/design.md, merge rule 4). */
  status: Stage,
  /** Stage -> effective time (UTC ISO-8601), before and after. */
  previous_stages: StageTimes,
  stages: StageTimes,
  /** Stages whose time is implied by a later one (not reported): leave them out of latency figures. */
  inferred_stages: z.array(Stage),
  campaign: z.string().nullable(),
  /** WhatsApp's error of the earliest failure, when the message failed. */
  error: z.object({ code: z.number().int().nullable(), title: z.string().nullable() }).nullable(),
  /** The phone number (else the WhatsApp user id, `IN.***42`) as the recipient policy allows, or null. */
  recipient: z.string().nullable(),
  recipient_policy: RecipientPolicy,
});
export type StatusChangedDetail = z.infer<typeof StatusChangedDetail>;

/** What an event is built from: a change and the message's row (an outbox entry as claim_status_events returns it). */
export interface StatusChangeRow {
  message_id: string;
  inserted: boolean;
  previous_status: StatusTimes | null;
  status: StatusTimes;
  inferred_stages: string[];
  campaign?: string | null;
  error_code?: number | null;
  error_title?: string | null;
  phone_number?: string | null;
  /** The WhatsApp user id (BSUID): the recipient when the webhooks gave no phone (user-id.ts). */
  recipient_user_id?: string | null;
}

/**
 * An entry of the status-change outbox as `claim_status_events` returns it (supabase/migrations/0023_*): the change as
 * the processor's transaction wrote it, and the message's campaign, error and recipient as the row is now.
 */
export interface OutboxEntry extends StatusChangeRow {
  /** The outbox row's id: what `ack_status_events` takes (increasing in commit order for one message). */
  id: number;
  /** When the change was committed: the event's `time`. */
  applied_at: Date;
  /** Claims so far, this one included. */
  attempts: number;
}

/** The status a row shows for these stage times: the same rule as the SQL function broadcasts_current_status. */
export function currentStatus(times: StatusTimes | null | undefined): Stage | null {
  if (!times) return null;
  for (const stage of ['played', 'read', 'delivered', 'failed', 'sent'] as const) if (times[stage]) return stage;
  return null;
}

/** The stage times in the order of STAGES, so equal times compare and serialize equal. */
function orderedTimes(times: StatusTimes | null | undefined): StatusTimes {
  const ordered: StatusTimes = {};
  for (const stage of STAGES) {
    const time = times?.[stage];
    if (time) ordered[stage] = time;
  }
  return ordered;
}

/** The masked phone, else the masked user id (a user with a username may have no phone in any webhook). */
function recipientFor(row: StatusChangeRow, policy: RecipientPolicy): string | null {
  if (policy === 'omitted') return null;
  if (row.phone_number) return maskPhone(row.phone_number) ?? null;
  return row.recipient_user_id ? (maskUserId(row.recipient_user_id) ?? null) : null;
}

/**
 * The events for what a batch changed: one per message whose stage times differ from before (a row changed only in
 * its pricing, conversation or provider id is not a status change). In message id order, like the rows.
 */
export function statusChangedDetails(rows: readonly StatusChangeRow[], policy: RecipientPolicy): StatusChangedDetail[] {
  const details: StatusChangedDetail[] = [];
  for (const row of rows) {
    const before = orderedTimes(row.previous_status);
    const after = orderedTimes(row.status);
    if (!row.inserted && JSON.stringify(before) === JSON.stringify(after)) continue;
    const status = currentStatus(after);
    if (!status) continue;
    const failed = Boolean(after.failed);
    details.push({
      version: STATUS_EVENT_VERSION,
      message_id: row.message_id,
      previous_status: row.inserted ? null : currentStatus(before),
      status,
      previous_stages: row.inserted ? {} : before,
      stages: after,
      inferred_stages: row.inferred_stages.filter((s): s is Stage => Stage.safeParse(s).success),
      campaign: row.campaign ?? null,
      error: failed || row.error_code != null ? { code: row.error_code ?? null, title: row.error_title ?? null } : null,
      recipient: recipientFor(row, policy),
      recipient_policy: policy,
    });
  }
  return details;
}

/** One PutEvents entry as the adapters send it (the bus name is the adapter's). */
export interface StatusEventEntry {
  Source: typeof STATUS_EVENT_SOURCE;
  DetailType: typeof STATUS_CHANGED_DETAIL_TYPE;
  /** JSON of a StatusChangedDetail. */
  Detail: string;
  /** When the change was applied (ISO-8601): the event's `time`. */
  Time: string;
}

export const StatusEventEntry = z.strictObject({
  Source: z.literal(STATUS_EVENT_SOURCE),
  DetailType: z.literal(STATUS_CHANGED_DETAIL_TYPE),
  Detail: z.string().min(2),
  Time: z.iso.datetime({ offset: true }),
});

export function statusEventEntry(detail: StatusChangedDetail, appliedAt: Date): StatusEventEntry {
  return {
    Source: STATUS_EVENT_SOURCE,
    DetailType: STATUS_CHANGED_DETAIL_TYPE,
    Detail: JSON.stringify(detail),
    Time: appliedAt.toISOString(),
  };
}

/**
 * PutEvents' limits: 10 entries and 256 KiB per request, an entry's size being its Source, DetailType, Detail and
 * resources in UTF-8 plus 14 bytes for the time
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html).
 */
export const PUT_EVENTS_MAX_ENTRIES = 10;
export const PUT_EVENTS_MAX_BYTES = 256 * 1024;

const utf8 = new TextEncoder();
export function entrySize(entry: StatusEventEntry): number {
  return 14 + utf8.encode(entry.Source + entry.DetailType + entry.Detail).length;
}

/** Entries grouped into PutEvents requests: at most 10 each and at most 256 KiB together. */
export function putEventsRequests<E extends StatusEventEntry>(entries: readonly E[]): E[][] {
  const requests: E[][] = [];
  let current: E[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = entrySize(entry);
    if (current.length === PUT_EVENTS_MAX_ENTRIES || (current.length > 0 && bytes + size > PUT_EVENTS_MAX_BYTES)) {
      requests.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += size;
  }
  if (current.length) requests.push(current);
  return requests;
}
