import * as z from 'zod';

/**
 * The three webhook shapes users point at the endpoint, in one place. Envelopes are parsed strictly enough to be
 * recognised; each status inside is parsed on its own (see normalize-webhook.ts) so that one bad item is rejected
 * with a reason while the others are still accepted. Unknown keys are kept (loose objects): providers add fields.
 */

const epochOrString = z.union([z.number(), z.string()]).nullish();

// --- AiSensy Project Webhook --------------------------------------------------------------------------------

/** The only AiSensy topic that carries delivery statuses; other topics are acknowledged and not queued. */
export const AISENSY_STATUS_TOPIC = 'message.status.updated';

export const AiSensyEnvelope = z.looseObject({
  id: z.string().optional(),
  created_at: epochOrString,
  topic: z.string(),
  delivery_attempt: z.union([z.number(), z.string()]).optional(),
  app_id: z.string().optional(),
  webhook_id: z.string().optional(),
  project_id: z.string().optional(),
  data: z.unknown(),
});
export type AiSensyEnvelope = z.infer<typeof AiSensyEnvelope>;

export const AiSensyMessage = z.looseObject({
  /** WhatsApp's id (`wamid...`): the key of the row. */
  messageId: z.string().trim().min(1, 'messageId is missing'),
  /** AiSensy's own id for the message. */
  id: z.union([z.string(), z.number()]).optional(),
  phone_number: z.union([z.string(), z.number()]).nullish(),
  status: z.string(),
  sent_at: epochOrString,
  delivered_at: epochOrString,
  read_at: epochOrString,
  played_at: epochOrString,
  failed_at: epochOrString,
  // Seen as {code, reason}, as {} and as {"code": null} on statuses that did not fail.
  failureResponse: z
    .looseObject({
      code: z.union([z.number(), z.string()]).nullish(),
      reason: z.string().nullish(),
    })
    .nullish(),
  campaign: z.looseObject({ name: z.string().nullish(), sent_at: epochOrString }).nullish(),
});
export type AiSensyMessage = z.infer<typeof AiSensyMessage>;

export const AiSensyStatusData = z.looseObject({ message: z.unknown() });

// --- Meta WhatsApp Cloud API -----------------------------------------------------------------------------------

export const MetaError = z.looseObject({
  code: z.union([z.number(), z.string()]).nullish(),
  title: z.string().nullish(),
  message: z.string().nullish(),
  error_data: z.looseObject({ details: z.string().nullish() }).nullish(),
  href: z.string().nullish(),
});

/** One status of Meta's `value.statuses[]`; the flat format of the original guide uses the same item shape. */
export const MetaStatus = z.looseObject({
  id: z.string().trim().min(1, 'id (the message id) is missing'),
  status: z.string(),
  timestamp: z.union([z.number(), z.string()]),
  /** Optional: recipients who use a WhatsApp username have `recipient_user_id` instead. */
  recipient_id: z.union([z.string(), z.number()]).nullish(),
  // Business-scoped user ids (2026): checked and kept by normalizeUserId (user-id.ts); anything else is dropped.
  recipient_user_id: z.unknown().optional(),
  recipient_parent_user_id: z.unknown().optional(),
  // Free-form objects: checked and copied within bounds by toStorableJsonObject (storable-text.ts), never
  // walked here, where an object of 100,000 keys or 4,500 levels would cost the parse or overflow the stack.
  conversation: z.unknown().optional(),
  pricing: z.unknown().optional(),
  biz_opaque_callback_data: z.string().nullish(),
  // Only the first error is kept: the others are not parsed, so 300,000 of them cost nothing.
  errors: z.array(z.unknown()).nullish(),
});
export type MetaStatus = z.infer<typeof MetaStatus>;

export const META_OBJECT = 'whatsapp_business_account';

/** The `value` of a change that may carry statuses (`messages`, and any field this service does not model). */
export const MetaChangeValue = z.looseObject({
  messaging_product: z.string().optional(),
  // The sender's phone number id and display number, read field by field (normalize-webhook.ts); left
  // unparsed so that a metadata object of 80,000 keys costs nothing.
  metadata: z.unknown().optional(),
  statuses: z.array(z.unknown()).optional(),
  messages: z.array(z.unknown()).optional(),
  errors: z.array(z.unknown()).optional(),
});
export type MetaChangeValue = z.infer<typeof MetaChangeValue>;

export const MetaEnvelope = z.looseObject({
  object: z.literal(META_OBJECT, { error: `object must be "${META_OBJECT}"` }),
  entry: z.array(
    z.looseObject({
      id: z.string().optional(),
      changes: z.array(
        z.looseObject({
          field: z.string(),
          // Parsed per change (normalize-webhook.ts): as MetaChangeValue, or as an account event (account-events.ts),
          // whose bad value is rejected alone.
          value: z.unknown().optional(),
        }),
      ),
    }),
  ),
});
export type MetaEnvelope = z.infer<typeof MetaEnvelope>;

// --- The original guide's flat format ---------------------------------------------------------------------------

export const FlatEnvelope = z.looseObject({ statuses: z.array(z.unknown()) });
export type FlatEnvelope = z.infer<typeof FlatEnvelope>;
