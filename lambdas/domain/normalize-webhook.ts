import type * as z from 'zod';
import { normalizePhone } from './phone';
import { STAGES, StatusUpdate, type RejectedItem, type Stage, type StatusError } from './status-update';
import { parseProviderTimestamp } from './timestamps';
import {
  AISENSY_STATUS_TOPIC,
  AiSensyEnvelope,
  AiSensyMessage,
  AiSensyStatusData,
  FlatEnvelope,
  MetaEnvelope,
  MetaStatus,
} from './webhook-payloads';

/** A real status is well under 2 KB; the bound keeps any single one far below the queue's message size. */
export const MAX_STATUS_JSON_CHARS = 16_384;

export type WebhookFormat = 'aisensy' | 'meta' | 'flat';

export interface NormalizedWebhook {
  format: WebhookFormat;
  /** Status updates ready for the queue, in document order. */
  updates: StatusUpdate[];
  rejected: RejectedItem[];
  /** Set when the webhook is valid but carries nothing to store (another AiSensy topic, inbound messages...). */
  ignored?: string;
}

/** The body is not a webhook this service understands: answered with 400 and the reason. */
export class WebhookFormatError extends Error {
  override readonly name = 'WebhookFormatError';
}

/**
 * Turns a parsed JSON body of any of the three formats into status updates. Pure: no I/O, no clock.
 * Throws WebhookFormatError when the envelope itself is not recognised; bad items inside a good envelope become
 * `rejected` entries instead.
 */
export function normalizeWebhook(body: unknown): NormalizedWebhook {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new WebhookFormatError('body must be a JSON object');
  }
  const record = body as Record<string, unknown>;
  if ('object' in record) return normalizeMeta(parseEnvelope(MetaEnvelope, body, 'Meta'));
  if ('topic' in record) return normalizeAiSensy(parseEnvelope(AiSensyEnvelope, body, 'AiSensy'));
  if ('statuses' in record) return normalizeFlat(parseEnvelope(FlatEnvelope, body, 'flat'));
  throw new WebhookFormatError(
    'unknown envelope: expected an AiSensy webhook ("topic"), a Meta webhook ("object") or {"statuses": [...]}',
  );
}

function parseEnvelope<T extends z.ZodType>(schema: T, body: unknown, name: string): z.infer<T> {
  const result = schema.safeParse(body);
  if (!result.success) throw new WebhookFormatError(`invalid ${name} webhook: ${describeIssues(result.error)}`);
  return result.data;
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => (issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
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

function toErrorCode(value: unknown): number | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  const code = Number(value);
  return Number.isInteger(code) ? code : undefined;
}

// --- Meta and flat ------------------------------------------------------------------------------------------------

function normalizeMeta(envelope: MetaEnvelope): NormalizedWebhook {
  const statuses: unknown[] = [];
  let otherContent = 0;
  for (const entry of envelope.entry) {
    for (const change of entry.changes) {
      const value = change.value;
      if (!value) continue;
      statuses.push(...(value.statuses ?? []));
      otherContent += (value.messages?.length ?? 0) + (value.errors?.length ?? 0);
    }
  }
  const result = normalizeStatusItems('meta', statuses);
  if (statuses.length === 0) {
    result.ignored = otherContent
      ? 'no statuses: inbound messages and account-level errors are not stored'
      : 'no statuses in this webhook';
  }
  return result;
}

function normalizeFlat(envelope: FlatEnvelope): NormalizedWebhook {
  const result = normalizeStatusItems('flat', envelope.statuses);
  if (envelope.statuses.length === 0) result.ignored = 'no statuses in this webhook';
  return result;
}

function normalizeStatusItems(format: WebhookFormat, items: unknown[]): NormalizedWebhook {
  const updates: StatusUpdate[] = [];
  const rejected: RejectedItem[] = [];
  items.forEach((item, index) => {
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
    const update = finish(
      {
        message_id: status.id.trim(),
        status: stage,
        timestamp: time.iso,
        phone_number: normalizePhone(status.recipient_id),
        campaign: status.biz_opaque_callback_data ?? undefined,
        error: stage === 'failed' ? metaError(status) : undefined,
        conversation: status.conversation ?? undefined,
        pricing: status.pricing ?? undefined,
      },
      index,
      rejected,
    );
    if (update) updates.push(stripUndefined(update));
  });
  return { format, updates, rejected };
}

function metaError(status: MetaStatus): StatusError | undefined {
  const first = status.errors?.[0];
  if (!first) return undefined;
  return withoutEmpty({
    code: toErrorCode(first.code),
    title: first.title ?? undefined,
    message: first.message ?? undefined,
    details: first.error_data?.details ?? undefined,
    href: first.href ?? undefined,
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

function normalizeAiSensy(envelope: AiSensyEnvelope): NormalizedWebhook {
  const result: NormalizedWebhook = { format: 'aisensy', updates: [], rejected: [] };
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
    message_id: message.messageId.trim(),
    phone_number: normalizePhone(message.phone_number),
    campaign: message.campaign?.name ?? undefined,
    provider_message_id: message.id === undefined ? undefined : String(message.id),
  };

  // One notification may carry the times of several stages: apply every one that is set.
  const stamped = new Map<Stage, string>();
  for (const [stage, field] of AISENSY_STAGE_TIMES) {
    const time = parseProviderTimestamp(message[field]);
    if (time.ok) stamped.set(stage, time.iso);
  }
  const current = toStage(message.status);
  if (current && !stamped.has(current)) {
    // The status's own time is missing: the notification's creation time is the best evidence there is.
    const fallback = parseProviderTimestamp(envelope.created_at);
    if (fallback.ok) stamped.set(current, fallback.iso);
  }
  if (!current && stamped.size === 0) {
    result.rejected.push({ index: 0, reason: `unknown status "${message.status.slice(0, 40)}"` });
    return result;
  }
  if (current && !stamped.has(current)) {
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
  return withoutEmpty({ code: toErrorCode(failure.code), title: failure.reason ?? undefined });
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

