import * as z from 'zod';
import { normalizePhone } from './phone';
import { type JsonObjectLimits, toStorableJsonObject, toStorableOptional } from './storable-text';

/**
 * The account and template health webhooks Meta sends on the same app as the statuses (`entry[].changes[].field`
 * other than `messages`). They are what stops campaigns: a phone number flagged for low quality or moved to a lower
 * messaging limit, a template paused or disabled, an account restricted. Each becomes one AccountEvent: stored
 * append-only (account_events, supabase/migrations/0018), counted, and sent to the alert topics when it matters.
 *
 * Shapes from Meta's webhook reference (developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/
 * reference/<field>, pages updated 2025-11-14): phone_number_quality_update, message_template_status_update,
 * message_template_quality_update, account_alerts, account_update, business_capability_update. Every field is
 * optional and unknown fields are kept in `detail`: Meta adds and removes fields (current_limit and old_limit are
 * announced to go in 2026, replaced by max_daily_conversations_per_business).
 */
export const ACCOUNT_FIELDS = [
  'phone_number_quality_update',
  'message_template_status_update',
  'message_template_quality_update',
  'account_alerts',
  'account_update',
  'business_capability_update',
] as const;
export type AccountField = (typeof ACCOUNT_FIELDS)[number];

export const SEVERITIES = ['critical', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** What an account or template event is about. */
export const SUBJECT_TYPES = ['phone_number', 'template', 'account'] as const;

/** One account or template event, as queued and stored. Snake case: the SQL function's contract. */
export const AccountEvent = z.object({
  field: z.enum(ACCOUNT_FIELDS),
  /** The WhatsApp Business Account (`entry[].id`). */
  waba_id: z.string().max(128).optional(),
  /** Meta's `entry[].time`, else the receipt. UTC ISO-8601. */
  occurred_at: z.iso.datetime(),
  subject_type: z.enum(SUBJECT_TYPES),
  /** The number (`+digits`), the template id, or the account's id. */
  subject_id: z.string().max(256).optional(),
  /** The template's name and language (`order_confirmation (en_US)`), or the display number. */
  subject_name: z.string().max(512).optional(),
  /** Meta's event, e.g. FLAGGED, DOWNGRADE, PAUSED, DISABLED, RED, ACCOUNT_RESTRICTION, an alert type. */
  event: z.string().max(128),
  severity: z.enum(SEVERITIES),
  /** The change's `value` as sent, within bounds. */
  detail: z.record(z.string(), z.unknown()),
});
export type AccountEvent = z.infer<typeof AccountEvent>;

const text = z.union([z.string(), z.number()]).nullish();
const PhoneQuality = z.looseObject({
  display_phone_number: text,
  event: text,
  current_limit: text,
  old_limit: text,
  max_daily_conversations_per_business: text,
});
const TemplateStatus = z.looseObject({
  event: text,
  message_template_id: text,
  message_template_name: text,
  message_template_language: text,
  reason: text,
});
const TemplateQuality = z.looseObject({
  previous_quality_score: text,
  new_quality_score: text,
  message_template_id: text,
  message_template_name: text,
  message_template_language: text,
});
const AccountAlert = z.looseObject({
  entity_type: text,
  entity_id: text,
  alert_info: z
    .looseObject({ alert_severity: text, alert_status: text, alert_type: text, alert_description: text })
    .nullish(),
});
const AccountUpdate = z.looseObject({ phone_number: text, event: text });
const CapabilityUpdate = z.looseObject({
  max_daily_conversation_per_phone: text,
  max_daily_conversations_per_business: text,
  max_phone_numbers_per_business: text,
});

/** Meta's messaging limits, lowest first: a change to an earlier one is a downgrade. */
export const MESSAGING_TIERS = [
  'TIER_NOT_SET',
  'TIER_50',
  'TIER_250',
  'TIER_1K',
  'TIER_2K',
  'TIER_10K',
  'TIER_100K',
  'TIER_UNLIMITED',
] as const;

/** Bounds on an event's detail: Meta's values are a handful of keys two levels deep. */
const DETAIL_LIMITS: Required<JsonObjectLimits> = { maxDepth: 8, maxNodes: 200 };

const upper = (value: unknown): string | undefined =>
  value === null || value === undefined || value === '' ? undefined : String(value).trim().toUpperCase().slice(0, 128);
const plain = (value: unknown): string | undefined =>
  value === null || value === undefined || value === '' ? undefined : toStorableOptional(String(value).slice(0, 256));

export type AccountChangeResult = { ok: true; event: AccountEvent } | { ok: false; reason: string };

/**
 * One change of an account field -> an AccountEvent, or the reason it cannot be one. Pure. `occurredAt` is the
 * entry's time as ISO (the caller parses it), `wabaId` the entry's id.
 */
export function toAccountEvent(
  field: AccountField,
  value: unknown,
  occurredAt: string,
  wabaId: string | undefined,
): AccountChangeResult {
  const detail = toStorableJsonObject(value, DETAIL_LIMITS);
  if (!detail.ok) return { ok: false, reason: `${field}: value ${detail.reason}` };
  const base = { field, waba_id: wabaId, occurred_at: occurredAt, detail: detail.value ?? {} };
  const classified = classify(field, value);
  if (!classified.ok) return classified;
  const parsed = AccountEvent.safeParse({ ...base, ...classified.fields });
  if (!parsed.success) return { ok: false, reason: `${field}: ${parsed.error.issues[0]?.message ?? 'invalid'}` };
  return { ok: true, event: stripUndefined(parsed.data) };
}

type Classified =
  | {
      ok: true;
      fields: Pick<AccountEvent, 'subject_type' | 'subject_id' | 'subject_name' | 'event' | 'severity'>;
    }
  | { ok: false; reason: string };

function classify(field: AccountField, value: unknown): Classified {
  switch (field) {
    case 'phone_number_quality_update': {
      const v = PhoneQuality.safeParse(value);
      if (!v.success) return invalid(field);
      const event = upper(v.data.event);
      if (!event) return { ok: false, reason: `${field}: event is missing` };
      const number = normalizePhone(v.data.display_phone_number ?? undefined);
      const lowered = isLowerTier(upper(v.data.old_limit), upper(v.data.current_limit));
      const severity: Severity =
        event === 'FLAGGED' ? 'critical' : event === 'DOWNGRADE' || lowered ? 'warning' : 'info';
      return { ok: true, fields: { subject_type: 'phone_number', subject_id: number, event, severity } };
    }
    case 'message_template_status_update': {
      const v = TemplateStatus.safeParse(value);
      if (!v.success) return invalid(field);
      const event = upper(v.data.event);
      if (!event) return { ok: false, reason: `${field}: event is missing` };
      const severity: Severity =
        event === 'DISABLED'
          ? 'critical'
          : ['PAUSED', 'FLAGGED', 'REJECTED', 'LIMIT_EXCEEDED'].includes(event)
            ? 'warning'
            : 'info';
      return { ok: true, fields: { ...template(v.data), event, severity } };
    }
    case 'message_template_quality_update': {
      const v = TemplateQuality.safeParse(value);
      if (!v.success) return invalid(field);
      const event = upper(v.data.new_quality_score);
      if (!event) return { ok: false, reason: `${field}: new_quality_score is missing` };
      // A template at RED is the step before PAUSED: a warning, so the campaign can change before Meta pauses it.
      const severity: Severity = event === 'RED' ? 'warning' : 'info';
      return { ok: true, fields: { ...template(v.data), event, severity } };
    }
    case 'account_alerts': {
      const v = AccountAlert.safeParse(value);
      if (!v.success) return invalid(field);
      const info = v.data.alert_info;
      const event = upper(info?.alert_type);
      if (!event) return { ok: false, reason: `${field}: alert_info.alert_type is missing` };
      const given = upper(info?.alert_severity);
      const severity: Severity = given === 'CRITICAL' ? 'critical' : given === 'WARNING' ? 'warning' : 'info';
      const isNumber = upper(v.data.entity_type) === 'PHONE_NUMBER';
      return {
        ok: true,
        fields: {
          subject_type: isNumber ? 'phone_number' : 'account',
          subject_id: plain(v.data.entity_id),
          event,
          severity,
        },
      };
    }
    case 'account_update': {
      const v = AccountUpdate.safeParse(value);
      if (!v.success) return invalid(field);
      const event = upper(v.data.event);
      if (!event) return { ok: false, reason: `${field}: event is missing` };
      const severity: Severity = ['DISABLED_UPDATE', 'ACCOUNT_RESTRICTION', 'ACCOUNT_DELETED'].includes(event)
        ? 'critical'
        : event === 'ACCOUNT_VIOLATION'
          ? 'warning'
          : 'info';
      const number = normalizePhone(v.data.phone_number ?? undefined);
      return {
        ok: true,
        fields: number
          ? { subject_type: 'phone_number', subject_id: number, event, severity }
          : { subject_type: 'account', event, severity },
      };
    }
    case 'business_capability_update': {
      const v = CapabilityUpdate.safeParse(value);
      if (!v.success) return invalid(field);
      return { ok: true, fields: { subject_type: 'account', event: 'CAPABILITY_UPDATE', severity: 'info' } };
    }
  }
}

function template(
  v: z.infer<typeof TemplateStatus>,
): Pick<AccountEvent, 'subject_type' | 'subject_id' | 'subject_name'> {
  const name = plain(v.message_template_name);
  const language = plain(v.message_template_language);
  return {
    subject_type: 'template',
    subject_id: plain(v.message_template_id),
    subject_name: name && language ? `${name} (${language})` : name,
  };
}

const invalid = (field: AccountField): Classified => ({ ok: false, reason: `${field}: value must be an object` });

/** True when `current` is a lower messaging limit than `old` (both known tiers). */
export function isLowerTier(old: string | undefined, current: string | undefined): boolean {
  const tiers: readonly string[] = MESSAGING_TIERS;
  const from = old ? tiers.indexOf(old) : -1;
  const to = current ? tiers.indexOf(current) : -1;
  return from > 0 && to >= 0 && to < from;
}

/** What to do, for the notification and the report: one sentence, from Meta's documentation of each event. */
export function remedyFor(event: Pick<AccountEvent, 'field' | 'event'>): string {
  switch (`${event.field}:${event.event}`) {
    case 'phone_number_quality_update:FLAGGED':
      return 'The number is flagged for low quality (RED): pause marketing from it, check recent templates for blocks and reports, and send only to people who opted in; the limit drops if quality stays low for 7 days.';
    case 'phone_number_quality_update:DOWNGRADE':
      return 'The messaging limit went down: split campaigns over more days or numbers, and raise quality before sending at the old volume.';
    case 'message_template_status_update:DISABLED':
      return 'The template is disabled for low quality: stop campaigns that use it and create a new template (edited content); it cannot be re-enabled.';
    case 'message_template_status_update:PAUSED':
      return 'The template is paused (3 hours, then 6 hours on a repeat): sends with it fail until then; review its content and audience before resuming.';
    case 'message_template_status_update:FLAGGED':
      return 'The template is flagged for negative feedback: improve it within 7 days or it will be disabled.';
    case 'message_template_status_update:REJECTED':
      return 'The template was rejected in review: read the reason in WhatsApp Manager, edit it and submit again, or appeal.';
    case 'message_template_quality_update:RED':
      return 'Template quality is RED: pause campaigns with it and revise the content and the audience before Meta pauses it.';
    case 'account_update:ACCOUNT_RESTRICTION':
      return 'The account is restricted from messaging: see restriction_info for the kind and the end date, and Business Support Home for an appeal.';
    case 'account_update:DISABLED_UPDATE':
      return 'The account is disabled (ban): nothing can be sent; appeal in Business Support Home.';
    case 'account_update:ACCOUNT_VIOLATION':
      return 'A policy violation was recorded: read violation_info and fix the cause before it becomes a restriction.';
    default:
      return event.field === 'account_alerts'
        ? "Read the alert's description in WhatsApp Manager; it says what Meta needs."
        : 'No action needed.';
  }
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** What the alert topics receive for an account or template event that needs someone. */
export interface AccountNotification {
  severity: Exclude<Severity, 'info'>;
  /** At most 100 characters (SNS's limit). */
  subject: string;
  message: string;
}

/**
 * The notification for an event, or undefined for an informational one: which number, template or account, what
 * happened, when, and what to do. Names business numbers and templates, never a recipient.
 */
export function accountNotification(event: AccountEvent): AccountNotification | undefined {
  if (event.severity === 'info') return undefined;
  const what =
    event.subject_type === 'template'
      ? `template ${event.subject_name ?? event.subject_id ?? '(unnamed)'}`
      : event.subject_type === 'phone_number'
        ? `number ${event.subject_id ?? '(unknown)'}`
        : `account ${event.subject_id ?? event.waba_id ?? ''}`.trim();
  const happened = describeEvent(event);
  const reason = typeof event.detail.reason === 'string' && event.detail.reason !== 'NONE' ? event.detail.reason : '';
  const description = [
    (event.detail.other_info as { description?: unknown } | undefined)?.description,
    (event.detail.alert_info as { alert_description?: unknown } | undefined)?.alert_description,
  ].find((d): d is string => typeof d === 'string');
  const lines = [
    `WhatsApp ${what}: ${happened}.`,
    `When: ${event.occurred_at}${event.waba_id ? `  WhatsApp Business Account: ${event.waba_id}` : ''}`,
    ...(reason ? [`Reason given by Meta: ${reason}`] : []),
    ...(description ? [`Meta says: ${description}`] : []),
    '',
    `What to do: ${remedyFor(event)}`,
    '',
    `Recorded in the account_events table (${event.field}); the current state of every number and template is in`,
    'the views phone_number_health and template_health, and in `npm run report`.',
  ];
  const subject = `[${event.severity.toUpperCase()}] WhatsApp ${what}: ${happened}`;
  return { severity: event.severity, subject: subject.slice(0, 100), message: lines.join('\n') };
}

function describeEvent(event: AccountEvent): string {
  switch (event.field) {
    case 'phone_number_quality_update':
      return event.event === 'FLAGGED'
        ? 'flagged for low quality (RED)'
        : `messaging limit ${String(event.detail.old_limit ?? '?')} -> ${String(
            event.detail.max_daily_conversations_per_business ?? event.detail.current_limit ?? '?',
          )} (${event.event})`;
    case 'message_template_quality_update':
      return `quality ${String(event.detail.previous_quality_score ?? '?')} -> ${event.event}`;
    case 'message_template_status_update':
      return event.event.toLowerCase();
    default:
      return event.event;
  }
}
