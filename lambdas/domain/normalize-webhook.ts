import type * as z from 'zod';
import { ACCOUNT_FIELDS, type AccountEvent, type AccountField, toAccountEvent } from './account-events';
import { normalizePhone } from './phone';
import { type RejectedItem, SENDER_ID, STAGES, type Stage, type StatusError, StatusUpdate } from './status-update';
import { type JsonObjectLimits, toStorableJsonObject, toStorableOptional, toStorableText } from './storable-text';
import { implausibleTimeReason, parseProviderTimestamp, type StatusTimeWindow } from './timestamps';
import { normalizeUserId } from './user-id';
import {
  AISENSY_STATUS_TOPIC,
  AiSensyEnvelope,
  AiSensyMessage,
  AiSensyStatusData,
  FlatEnvelope,
  MetaChangeValue,
  MetaEnvelope,
  MetaError,
  MetaStatus,
} from './webhook-payloads';

/** A real status is well under 2 KB; the bound keeps any single one far below the queue's message size. */
export const MAX_STATUS_JSON_CHARS = 16_384;

/** Items one webhook may carry by default (Meta sends at most 1,000 statuses). */
export const DEFAULT_MAX_WEBHOOK_ITEMS = 5_000;

/** Bounds on `conversation` and `pricing`: Meta's are 2 levels deep with a handful of keys. */
export const FREE_FORM_LIMITS: Required<JsonObjectLimits> = { maxDepth: 16, maxNodes: 1_000 };

export interface NormalizeOptions {
  /**
   * Array elements the webhook may hold where statuses live (Meta's entries, changes, statuses, inbound messages
   * and errors; the flat format's statuses). Counted before any item is parsed, so an oversized webhook costs
   * one pass over its arrays' lengths, not the validation of every item. @default 5000
   */
  maxItems?: number;
  /**
   * When the webhook was received and how far from that its status times may be: each time outside the window is
   * rejected with a reason. Unset, times are not compared with the receipt (the function stays free of the clock).
   */
  receipt?: { receivedAtMs: number; window: StatusTimeWindow };
  /**
   * AiSensy's `X-AiSensy-Project-Id` header: the sender's project when the envelope has no `project_id`.
   * @default undefined
   */
  projectId?: string;
}

/** Which business sent a message: the `sender_*` fields of a status update. */
type Sender = Pick<
  StatusUpdate,
  'sender_waba_id' | 'sender_phone_number_id' | 'sender_display_phone_number' | 'sender_project_id'
>;

export type WebhookFormat = 'aisensy' | 'meta' | 'flat';

export interface NormalizedWebhook {
  format: WebhookFormat;
  /** Status updates ready for the queue, in document order. */
  updates: StatusUpdate[];
  /** Account and template health events (Meta only), in document order. */
  accountEvents: AccountEvent[];
  /**
   * Items that could not be used, and why. `index` counts statuses in document order; a rejected account or template
   * change is counted among those changes, and its reason starts with its field.
   */
  rejected: RejectedItem[];
  /** Set when the webhook is valid but carries nothing to store (another AiSensy topic, inbound messages...). */
  ignored?: string;
}

/** The body is not a webhook this service understands: answered with 400 and the reason. */
export class WebhookFormatError extends Error {
  override readonly name = 'WebhookFormatError';
}

/** The webhook holds more items than allowed: answered with 413, before any item was parsed. */
export class WebhookTooLargeError extends Error {
  override readonly name = 'WebhookTooLargeError';
}

/**
 * Turns a parsed JSON body of any of the three formats into status updates. Pure: no I/O, no clock.
 * Throws WebhookFormatError when the envelope itself is not recognised; bad items inside a good envelope become
 * `rejected` entries instead.
 */
export function normalizeWebhook(body: unknown, options: NormalizeOptions = {}): NormalizedWebhook {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new WebhookFormatError('body must be a JSON object');
  }
  const record = body as Record<string, unknown>;
  const maxItems = options.maxItems ?? DEFAULT_MAX_WEBHOOK_ITEMS;
  const items = countWebhookItems(record, maxItems);
  if (items > maxItems) throw new WebhookTooLargeError(`webhook carries more than ${maxItems} items`);
  const plausible = options.receipt ? receiptCheck(options.receipt) : () => undefined;
  return withoutStackTraces(() => {
    if ('object' in record) {
      return normalizeMeta(parseEnvelope(MetaEnvelope, body, 'Meta'), plausible, options.receipt?.receivedAtMs);
    }
    if ('topic' in record) {
      return normalizeAiSensy(parseEnvelope(AiSensyEnvelope, body, 'AiSensy'), plausible, options.projectId);
    }
    if ('statuses' in record) return normalizeFlat(parseEnvelope(FlatEnvelope, body, 'flat'), plausible);
    throw new WebhookFormatError(
      'unknown envelope: expected an AiSensy webhook ("topic"), a Meta webhook ("object") or {"statuses": [...]}',
    );
  });
}

/**
 * The array elements of a webhook where statuses live, read from the arrays' lengths alone (no item is parsed),
 * stopping as soon as the count passes `limit`: 300,000 empty items in a 900 KB body used to cost 2.2 s of
 * validation before being refused. For Meta it is the larger of two counts, each held to the limit on its own:
 * the items (statuses, inbound messages, errors) and the containers (entries, changes).
 */
export function countWebhookItems(body: Record<string, unknown>, limit: number): number {
  if ('object' in body) {
    let items = 0;
    let containers = 0;
    for (const entry of arrayOrNone(body.entry)) {
      containers += 1;
      for (const change of arrayOrNone(field(entry, 'changes'))) {
        containers += 1;
        const value = field(change, 'value');
        items += arrayOrNone(field(value, 'statuses')).length;
        items += arrayOrNone(field(value, 'messages')).length + arrayOrNone(field(value, 'errors')).length;
        if (items > limit || containers > limit) return Math.max(items, containers);
      }
      if (containers > limit) return containers;
    }
    return Math.max(items, containers);
  }
  if ('topic' in body) return 1;
  return arrayOrNone(body.statuses).length;
}

/** Says why a normalized time is implausible, or undefined. */
type TimeCheck = (iso: string) => string | undefined;

function receiptCheck(receipt: NonNullable<NormalizeOptions['receipt']>): TimeCheck {
  return (iso) => implausibleTimeReason(iso, receipt.receivedAtMs, receipt.window);
}

const NONE: readonly unknown[] = [];
const arrayOrNone = (value: unknown): readonly unknown[] => (Array.isArray(value) ? value : NONE);
const field = (value: unknown, key: string): unknown =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && Object.hasOwn(value, key)
    ? (value as Record<string, unknown>)[key]
    : undefined;

/**
 * Runs `fn` with V8's stack capture off. A failed zod parse builds errors, and capturing their stacks was three
 * quarters of the cost of rejecting an item (measured: 5,000 malformed items took 98 ms, 29 ms without), a cost
 * any client could multiply. Synchronous, so nothing else runs while the limit is lowered; it is restored even
 * when `fn` throws.
 */
function withoutStackTraces<T>(fn: () => T): T {
  const saved = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return fn();
  } finally {
    Error.stackTraceLimit = saved;
  }
}

function parseEnvelope<T extends z.ZodType>(schema: T, body: unknown, name: string): z.infer<T> {
  const result = schema.safeParse(body);
  if (!result.success) throw new WebhookFormatError(`invalid ${name} webhook: ${describeIssues(result.error)}`);
  return result.data;
}

function describeIssues(error: z.ZodError, within?: string): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => {
      const path = [...(within ? [within] : []), ...issue.path.map(String)].join('.');
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join('; ');
}

function toStage(value: string): Stage | undefined {
  const stage = value.trim().toLowerCase();
  return (STAGES as readonly string[]).includes(stage) ? (stage as Stage) : undefined;
}

/** Final guard: whatever a normalizer builds must satisfy the queue/SQL contract. */
function finish(candidate: StatusUpdate, index: number, rejected: RejectedItem[]): StatusUpdate | undefined {
  const result = StatusUpdate.safeParse(candidate);
  if (!result.success) {
    rejected.push({ index, reason: describeIssues(result.error) });
    return undefined;
  }
  if (JSON.stringify(result.data).length > MAX_STATUS_JSON_CHARS) {
    rejected.push({ index, reason: `status is larger than ${MAX_STATUS_JSON_CHARS} characters` });
    return undefined;
  }
  return result.data;
}

function withoutEmpty<T extends Record<string, unknown>>(value: T): T | undefined {
  const entries = Object.entries(value).filter(([, v]) => v !== undefined && v !== null && v !== '');
  return entries.length ? (Object.fromEntries(entries) as T) : undefined;
}

/** An id of a sender (WABA, phone number id, project) as stored, or undefined when it is not one. */
function senderId(value: unknown): string | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  const id = String(value).trim();
  return SENDER_ID.test(id) ? id : undefined;
}

function toErrorCode(value: unknown): number | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  const code = Number(value);
  return Number.isInteger(code) ? code : undefined;
}

// --- Meta and flat ------------------------------------------------------------------------------------------------

function normalizeMeta(
  envelope: MetaEnvelope,
  plausible: TimeCheck,
  receivedAtMs: number | undefined,
): NormalizedWebhook {
  const statuses: SentStatus[] = [];
  const accountEvents: AccountEvent[] = [];
  const accountRejected: RejectedItem[] = [];
  let accountChanges = 0;
  let otherContent = 0;
  for (const [e, entry] of envelope.entry.entries()) {
    for (const [c, change] of entry.changes.entries()) {
      if (isAccountField(change.field)) {
        const index = accountChanges++;
        const time = entryTime(field(entry, 'time'), receivedAtMs);
        const result = time.ok
          ? toAccountEvent(change.field, change.value, time.iso, senderId(entry.id))
          : { ok: false as const, reason: `${change.field}: ${time.reason}` };
        if (result.ok) accountEvents.push(result.event);
        else accountRejected.push({ index, reason: result.reason });
        continue;
      }
      if (change.value === undefined || change.value === null) continue;
      const parsed = MetaChangeValue.safeParse(change.value);
      if (!parsed.success) {
        const path = `entry.${e}.changes.${c}.value`;
        throw new WebhookFormatError(`invalid Meta webhook: ${describeIssues(parsed.error, path)}`);
      }
      const value = parsed.data;
      // The sender is the entry's WhatsApp Business Account and the change's business phone number. `metadata` is
      // read field by field, never parsed whole (see webhook-payloads.ts).
      const sender = withoutEmpty<Sender>({
        sender_waba_id: senderId(entry.id),
        sender_phone_number_id: senderId(field(value.metadata, 'phone_number_id')),
        sender_display_phone_number: normalizePhone(field(value.metadata, 'display_phone_number')),
      });
      // One push per status: push(...statuses) passes every element as an argument and overflows the stack at
      // about 120,000 of them.
      for (const item of value.statuses ?? []) statuses.push({ item, sender });
      otherContent += (value.messages?.length ?? 0) + (value.errors?.length ?? 0);
    }
  }
  const result = normalizeStatusItems('meta', statuses, plausible);
  result.accountEvents = accountEvents;
  result.rejected.push(...accountRejected);
  if (statuses.length === 0 && accountChanges === 0) {
    result.ignored = otherContent
      ? 'no statuses: inbound messages and account-level errors are not stored'
      : 'no statuses in this webhook';
  }
  return result;
}

const isAccountField = (name: string): name is AccountField => (ACCOUNT_FIELDS as readonly string[]).includes(name);

/** Meta's `entry[].time` (Unix seconds), else the receipt: an account event is kept with the best time there is. */
function entryTime(
  value: unknown,
  receivedAtMs: number | undefined,
): { ok: true; iso: string } | { ok: false; reason: string } {
  const time = parseProviderTimestamp(value);
  if (time.ok) return time;
  if (receivedAtMs !== undefined) return { ok: true, iso: new Date(receivedAtMs).toISOString() };
  return { ok: false, reason: time.unset ? 'entry time is missing' : `entry time: ${time.reason}` };
}

function normalizeFlat(envelope: FlatEnvelope, plausible: TimeCheck): NormalizedWebhook {
  const result = normalizeStatusItems(
    'flat',
    envelope.statuses.map((item) => ({ item })),
    plausible,
  );
  if (envelope.statuses.length === 0) result.ignored = 'no statuses in this webhook';
  return result;
}

/** A status item of a webhook with the sender its envelope names (Meta), if any. */
interface SentStatus {
  item: unknown;
  sender?: Sender;
}

function normalizeStatusItems(format: WebhookFormat, items: SentStatus[], plausible: TimeCheck): NormalizedWebhook {
  const updates: StatusUpdate[] = [];
  const rejected: RejectedItem[] = [];
  items.forEach(({ item, sender }, index) => {
    const malformed = basicShapeProblem(item);
    if (malformed) {
      rejected.push({ index, reason: malformed });
      return;
    }
    const parsed = MetaStatus.safeParse(item);
    if (!parsed.success) {
      rejected.push({ index, reason: describeIssues(parsed.error) });
      return;
    }
    const status = parsed.data;
    const stage = toStage(status.status);
    if (!stage) {
      rejected.push({ index, reason: `unknown status "${status.status.slice(0, 40)}"` });
      return;
    }
    const time = parseProviderTimestamp(status.timestamp);
    if (!time.ok) {
      rejected.push({ index, reason: time.reason });
      return;
    }
    const implausible = plausible(time.iso);
    if (implausible) {
      rejected.push({ index, reason: implausible });
      return;
    }
    const conversation = freeForm('conversation', status.conversation);
    const pricing = freeForm('pricing', status.pricing);
    if (!conversation.ok || !pricing.ok) {
      rejected.push({ index, reason: [conversation, pricing].flatMap((r) => (r.ok ? [] : [r.reason])).join('; ') });
      return;
    }
    const update = finish(
      {
        message_id: toStorableText(status.id.trim()),
        status: stage,
        timestamp: time.iso,
        phone_number: normalizePhone(status.recipient_id),
        recipient_user_id: normalizeUserId(status.recipient_user_id),
        recipient_parent_user_id: normalizeUserId(status.recipient_parent_user_id),
        ...sender,
        campaign: toStorableOptional(status.biz_opaque_callback_data),
        error: stage === 'failed' ? metaError(status) : undefined,
        conversation: conversation.value,
        pricing: pricing.value,
      },
      index,
      rejected,
    );
    if (update) updates.push(stripUndefined(update));
  });
  return { format, updates, accountEvents: [], rejected };
}

/** `conversation` or `pricing`: absent, or an object within FREE_FORM_LIMITS with every string made storable. */
function freeForm(
  name: string,
  value: unknown,
): { ok: true; value?: Record<string, unknown> } | { ok: false; reason: string } {
  if (value === null || value === undefined) return { ok: true };
  const result = toStorableJsonObject(value, FREE_FORM_LIMITS);
  return result.ok ? result : { ok: false, reason: `${name} ${result.reason}` };
}

/**
 * The commonest ways an item is malformed, found without zod: a rejected zod parse costs about ten times an
 * accepted one, so a body of 5,000 empty items (15 KB) cost 60 ms. An item that passes still goes through
 * MetaStatus, but it is then at least 40 bytes long, which bounds the cost per byte of whatever zod refuses.
 */
function basicShapeProblem(item: unknown): string | undefined {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    return `expected an object, received ${item === null ? 'null' : Array.isArray(item) ? 'an array' : typeof item}`;
  }
  const status = item as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof status.id !== 'string' || status.id.trim() === '') problems.push('id (the message id) is missing');
  if (typeof status.status !== 'string') problems.push('status must be a string');
  if (typeof status.timestamp !== 'string' && typeof status.timestamp !== 'number')
    problems.push('timestamp is missing');
  return problems.length ? problems.join('; ') : undefined;
}

function metaError(status: MetaStatus): StatusError | undefined {
  const parsed = MetaError.safeParse(status.errors?.[0]);
  if (!parsed.success) return undefined;
  const first = parsed.data;
  return withoutEmpty({
    code: toErrorCode(first.code),
    title: toStorableOptional(first.title),
    message: toStorableOptional(first.message),
    details: toStorableOptional(first.error_data?.details),
    href: toStorableOptional(first.href),
  });
}

// --- AiSensy --------------------------------------------------------------------------------------------------------

const AISENSY_STAGE_TIMES = [
  ['sent', 'sent_at'],
  ['delivered', 'delivered_at'],
  ['read', 'read_at'],
  ['played', 'played_at'],
  ['failed', 'failed_at'],
] as const satisfies ReadonlyArray<readonly [Stage, keyof AiSensyMessage]>;

function normalizeAiSensy(
  envelope: AiSensyEnvelope,
  plausible: TimeCheck,
  headerProjectId: string | undefined,
): NormalizedWebhook {
  const result: NormalizedWebhook = { format: 'aisensy', updates: [], accountEvents: [], rejected: [] };
  if (envelope.topic !== AISENSY_STATUS_TOPIC) {
    result.ignored = `topic "${envelope.topic.slice(0, 60)}" carries no delivery status`;
    return result;
  }
  const data = AiSensyStatusData.safeParse(envelope.data);
  const parsed = AiSensyMessage.safeParse(data.success ? data.data.message : undefined);
  if (!parsed.success) {
    result.rejected.push({ index: 0, reason: `data.message: ${describeIssues(parsed.error)}` });
    return result;
  }
  const message = parsed.data;
  const common = {
    message_id: toStorableText(message.messageId.trim()),
    phone_number: normalizePhone(message.phone_number),
    sender_project_id: senderId(envelope.project_id) ?? senderId(headerProjectId),
    campaign: toStorableOptional(message.campaign?.name),
    provider_message_id: message.id === undefined ? undefined : toStorableText(String(message.id)),
  };

  // One notification may carry the times of several stages: apply every one that is set.
  // A stage whose time is implausible is rejected on its own; the notification's other stages still apply.
  const stamped = new Map<Stage, string>();
  const implausibleStages = new Set<Stage>();
  const stamp = (stage: Stage, field: string, iso: string) => {
    const implausible = plausible(iso);
    if (!implausible) return void stamped.set(stage, iso);
    implausibleStages.add(stage);
    result.rejected.push({ index: 0, reason: `${field}: ${implausible}` });
  };
  for (const [stage, field] of AISENSY_STAGE_TIMES) {
    const time = parseProviderTimestamp(message[field]);
    if (time.ok) stamp(stage, field, time.iso);
    else if (!time.unset) result.rejected.push({ index: 0, reason: `${field}: ${time.reason}` });
  }
  const current = toStage(message.status);
  if (current && !stamped.has(current) && !implausibleStages.has(current)) {
    // The status's own time is missing: the notification's creation time is the best evidence there is.
    const fallback = parseProviderTimestamp(envelope.created_at);
    if (fallback.ok) stamp(current, 'created_at', fallback.iso);
  }
  if (!current && stamped.size === 0 && implausibleStages.size === 0) {
    result.rejected.push({ index: 0, reason: `unknown status "${message.status.slice(0, 40)}"` });
    return result;
  }
  if (current && !stamped.has(current) && !implausibleStages.has(current)) {
    result.rejected.push({ index: 0, reason: `status ${message.status} has no timestamp` });
  }
  for (const [stage, timestamp] of stamped) {
    const update = finish(
      {
        ...common,
        status: stage,
        timestamp,
        error: stage === 'failed' ? aiSensyError(message) : undefined,
      },
      0,
      result.rejected,
    );
    if (update) result.updates.push(stripUndefined(update));
  }
  return result;
}

function aiSensyError(message: AiSensyMessage): StatusError | undefined {
  const failure = message.failureResponse;
  if (!failure) return undefined;
  return withoutEmpty({ code: toErrorCode(failure.code), title: toStorableOptional(failure.reason) });
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
