/**
 * One status as the webhook a provider sends for it, for the demo data and the alert simulator: AiSensy's project
 * webhook (`message.status.updated`, one stage time in ms), Meta's WhatsApp Cloud API envelope, or the original
 * guide's flat `{"statuses": [...]}`. Shapes as in testkit/webhooks.ts (AiSensy's and Meta's references).
 */
export type WebhookFormat = 'aisensy' | 'meta' | 'flat';

export interface ProviderStatus {
  messageId: string;
  phone: string;
  campaign: string;
  stage: 'sent' | 'delivered' | 'read' | 'failed';
  /** When it happened, ms. */
  at: number;
  error?: { code: number; title: string };
  /** Meta's per-message pricing object (Cloud API and flat formats; AiSensy's webhook has none). */
  pricing?: Record<string, unknown>;
}

export function providerWebhook(e: ProviderStatus, format: WebhookFormat): unknown {
  if (format === 'aisensy') {
    return {
      id: `evt-${e.messageId}-${e.stage}`,
      created_at: Math.round(e.at),
      topic: 'message.status.updated',
      delivery_attempt: 1,
      data: {
        message: {
          id: `ais-${e.messageId}`,
          messageId: e.messageId,
          phone_number: e.phone,
          status: e.stage.toUpperCase(),
          [`${e.stage}_at`]: Math.round(e.at),
          failureResponse: e.error ? { code: e.error.code, reason: e.error.title } : {},
          campaign: { name: e.campaign },
        },
      },
    };
  }
  const status = {
    id: e.messageId,
    status: e.stage,
    timestamp: String(Math.floor(e.at / 1000)),
    recipient_id: e.phone,
    // The flat format carries no campaign.
    ...(format === 'meta' ? { biz_opaque_callback_data: e.campaign } : {}),
    ...(e.error ? { errors: [{ code: e.error.code, title: e.error.title, message: e.error.title }] } : {}),
    ...(e.pricing ? { pricing: e.pricing } : {}),
  };
  if (format === 'meta') {
    return {
      object: 'whatsapp_business_account',
      entry: [
        {
          id: '102290129340398',
          changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', statuses: [status] } }],
        },
      ],
    };
  }
  return { statuses: [status] };
}
