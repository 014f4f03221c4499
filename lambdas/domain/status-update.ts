import * as z from 'zod';
import { USER_ID } from './user-id';

/**
 * The stages a WhatsApp message goes through, in order of progress. A later stage implies the earlier ones
 * (`played` implies `read` implies `delivered` implies `sent`). `failed` stands apart: it is never implied and
 * never implies anything.
 */
export const PROGRESS_STAGES = ['sent', 'delivered', 'read', 'played'] as const;
export const STAGES = [...PROGRESS_STAGES, 'failed'] as const;
export type Stage = (typeof STAGES)[number];
export const Stage = z.enum(STAGES);

/** A row's `status` JSONB: stage -> UTC ISO time. */
export type StatusTimes = Partial<Record<Stage, string>>;

/** A failure as WhatsApp reports it (Meta's `errors[]`, AiSensy's `failureResponse`). */
export const StatusError = z.object({
  code: z.number().int().optional(),
  title: z.string().optional(),
  message: z.string().optional(),
  details: z.string().optional(),
  href: z.string().optional(),
});
export type StatusError = z.infer<typeof StatusError>;

/** Ids of a sender as providers send them: short, printable, no spaces. */
export const SENDER_ID = /^[\w.+:-]{1,128}$/;
const SenderField = z.string().regex(SENDER_ID);

/**
 * One normalized status update: the single shape that travels from the ingest handler through the queue to the
 * database's `apply_status_updates` function. Snake case because it is the SQL function's contract.
 */
export const StatusUpdate = z.object({
  /** WhatsApp's message id (`wamid...`). */
  message_id: z.string().min(1).max(512),
  status: Stage,
  /** UTC ISO-8601 with milliseconds, e.g. `2024-01-01T10:00:00.000Z`. */
  timestamp: z.iso.datetime(),
  /** `+` followed by digits. */
  phone_number: z
    .string()
    .regex(/^\+\d{1,20}$/)
    .optional(),
  /** WhatsApp's business-scoped user id (lambdas/domain/user-id.ts): beside the phone, or alone for a username user. */
  recipient_user_id: z.string().regex(USER_ID).optional(),
  /** The parent user id, shared by the business portfolios of one enterprise. */
  recipient_parent_user_id: z.string().regex(USER_ID).optional(),
  /** The sender: Meta's WhatsApp Business Account id (`entry[].id`). */
  sender_waba_id: SenderField.optional(),
  /** The sender: the business phone number's id (`metadata.phone_number_id`), the key Meta's API uses. */
  sender_phone_number_id: SenderField.optional(),
  /** The sender: the business phone number as displayed (`metadata.display_phone_number`). */
  sender_display_phone_number: SenderField.optional(),
  /** The sender: AiSensy's project (`project_id` in the envelope, else the `X-AiSensy-Project-Id` header). */
  sender_project_id: SenderField.optional(),
  /** AiSensy's `campaign.name` or Meta's `biz_opaque_callback_data`. */
  campaign: z.string().max(512).optional(),
  /** AiSensy's own message id. */
  provider_message_id: z.string().max(512).optional(),
  error: StatusError.optional(),
  conversation: z.record(z.string(), z.unknown()).optional(),
  pricing: z.record(z.string(), z.unknown()).optional(),
});
export type StatusUpdate = z.infer<typeof StatusUpdate>;

/** An item of a webhook that could not become a status update, and why. */
export interface RejectedItem {
  /** Position of the item in the webhook, counting statuses in document order from 0. */
  index: number;
  reason: string;
}
