import { normalizeWebhook, WebhookFormatError } from '../../lambdas/domain/normalize-webhook';
import {
  aisensyMessage,
  aisensyWebhook,
  flatWebhook,
  isoAt,
  metaFailedStatus,
  metaStatus,
  metaWebhook,
  T0_SECONDS,
} from '../../testkit/webhooks';

describe('normalizeWebhook: Meta Cloud API envelope', () => {
  it('keeps conversation, pricing, phone and time of a delivered status', () => {
    // Arrange
    const body = metaWebhook([metaStatus()]);
    // Act
    const result = normalizeWebhook(body);
    // Assert
    expect(result.format).toBe('meta');
    expect(result.rejected).toEqual([]);
    expect(result.updates).toEqual([
      {
        message_id: 'wamid.HBgMOTE5ODc2NTQzMjEwFQIAERgSQzg4RkM1RjdBQjcyMkE1QjQ1AA==',
        status: 'delivered',
        timestamp: isoAt(T0_SECONDS),
        phone_number: '+919876543210',
        sender_waba_id: '102290129340398',
        sender_phone_number_id: '106540352242922',
        sender_display_phone_number: '+15550783881',
        conversation: { id: 'c1b2a3f4e5d6c7b8a9', origin: { type: 'marketing' } },
        pricing: { billable: true, pricing_model: 'PMP', category: 'marketing', type: 'regular' },
      },
    ]);
  });

  it('keeps the error of a failed status', () => {
    const [update] = normalizeWebhook(metaWebhook([metaFailedStatus()])).updates;
    expect(update?.status).toBe('failed');
    expect(update?.error).toEqual({
      code: 131049,
      title: 'This message was not delivered to maintain healthy ecosystem engagement.',
      message: 'This message was not delivered to maintain healthy ecosystem engagement.',
      details: 'In order to maintain a healthy ecosystem engagement, the message failed to be delivered.',
      href: 'https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/',
    });
  });

  it('takes every status of every change of every entry, indexing items in document order', () => {
    const body = metaWebhook(
      [metaStatus({ id: 'wamid.A' }), metaStatus({ id: 'wamid.B', status: 'bogus' })],
      [metaStatus({ id: 'wamid.C', status: 'read' })],
    );
    (body.entry as unknown[]).push({
      id: '2',
      changes: [{ field: 'messages', value: { statuses: [metaStatus({ id: 'wamid.D' })] } }],
    });
    const result = normalizeWebhook(body);
    expect(result.updates.map((u) => u.message_id)).toEqual(['wamid.A', 'wamid.C', 'wamid.D']);
    expect(result.rejected).toEqual([{ index: 1, reason: 'unknown status "bogus"' }]);
  });

  it('accepts played, a missing recipient_id (username users) and the campaign in biz_opaque_callback_data', () => {
    const { recipient_id: _r, ...withoutRecipient } = metaStatus({ status: 'played' });
    const result = normalizeWebhook(
      metaWebhook([
        { ...withoutRecipient, recipient_user_id: 'US.13491208655302741918', biz_opaque_callback_data: 'spring_sale' },
      ]),
    );
    expect(result.rejected).toEqual([]);
    expect(result.updates[0]).toMatchObject({
      status: 'played',
      campaign: 'spring_sale',
      recipient_user_id: 'US.13491208655302741918',
    });
    expect(result.updates[0]).not.toHaveProperty('phone_number');
  });

  // The 2026 status shape: Meta's "Business-scoped user IDs" page (developers.facebook.com/documentation/
  // business-messaging/whatsapp/business-scoped-user-ids, updated 2026-03-31) and the statuses type of whatsapp-api-js
  // 6.3 (github.com/Secreto31126/whatsapp-api-js, ServerStatusPayload: recipient_user_id, recipient_parent_user_id).
  it('keeps the user id and the parent user id beside the phone, and either alone', () => {
    const both = metaStatus({
      id: 'wamid.BOTH',
      recipient_user_id: 'IN.1648738043044942',
      recipient_parent_user_id: 'IN.ENT.11815799212886844830',
    });
    const { recipient_id: _r, ...userIdOnly } = metaStatus({
      id: 'wamid.USER',
      recipient_user_id: 'BR.1502576394655843',
    });
    const result = normalizeWebhook(metaWebhook([both, userIdOnly]));
    expect(result.rejected).toEqual([]);
    expect(result.updates[0]).toMatchObject({
      phone_number: '+919876543210',
      recipient_user_id: 'IN.1648738043044942',
      recipient_parent_user_id: 'IN.ENT.11815799212886844830',
    });
    expect(result.updates[1]).toMatchObject({ recipient_user_id: 'BR.1502576394655843' });
    expect(result.updates[1]).not.toHaveProperty('phone_number');
  });

  it('drops a malformed user id and keeps the status (and its neighbours)', () => {
    const result = normalizeWebhook(
      metaWebhook([
        metaStatus({ id: 'wamid.A', recipient_user_id: 'not a user id' }),
        metaStatus({ id: 'wamid.B', recipient_user_id: { nested: true }, recipient_parent_user_id: 42 }),
      ]),
    );
    expect(result.rejected).toEqual([]);
    expect(result.updates.map((u) => u.message_id)).toEqual(['wamid.A', 'wamid.B']);
    for (const update of result.updates) {
      expect(update).not.toHaveProperty('recipient_user_id');
      expect(update).not.toHaveProperty('recipient_parent_user_id');
    }
  });

  it('records the sender of each change: several numbers and accounts in one webhook', () => {
    const body = metaWebhook([metaStatus({ id: 'wamid.A' })]);
    (body.entry as unknown[]).push({
      id: '204351234567890',
      changes: [
        {
          field: 'messages',
          value: {
            messaging_product: 'whatsapp',
            metadata: { display_phone_number: '91 98765 00000', phone_number_id: '330012345678901' },
            statuses: [metaStatus({ id: 'wamid.B' })],
          },
        },
        // No metadata, a metadata that is not an object, and ids that are not ids: the statuses still count.
        { field: 'messages', value: { statuses: [metaStatus({ id: 'wamid.C' })] } },
        {
          field: 'messages',
          value: { metadata: 'x', statuses: [metaStatus({ id: 'wamid.D' })] },
        },
      ],
    });
    (body.entry as Record<string, unknown>[]).push({
      id: 'bad id with spaces',
      changes: [
        {
          field: 'messages',
          value: { metadata: { phone_number_id: { $gt: '' } }, statuses: [metaStatus({ id: 'wamid.E' })] },
        },
      ],
    });
    const result = normalizeWebhook(body);
    expect(result.rejected).toEqual([]);
    const senders = result.updates.map((u) => [
      u.message_id,
      u.sender_waba_id,
      u.sender_phone_number_id,
      u.sender_display_phone_number,
    ]);
    expect(senders).toEqual([
      ['wamid.A', '102290129340398', '106540352242922', '+15550783881'],
      ['wamid.B', '204351234567890', '330012345678901', '+919876500000'],
      ['wamid.C', '204351234567890', undefined, undefined],
      ['wamid.D', '204351234567890', undefined, undefined],
      ['wamid.E', undefined, undefined, undefined],
    ]);
  });

  it('acknowledges inbound messages and account errors without queuing anything', () => {
    const body = {
      object: 'whatsapp_business_account',
      entry: [
        {
          id: '1',
          changes: [
            {
              field: 'messages',
              value: { messaging_product: 'whatsapp', messages: [{ id: 'wamid.in', type: 'text' }] },
            },
          ],
        },
      ],
    };
    const result = normalizeWebhook(body);
    expect(result.updates).toEqual([]);
    expect(result.ignored).toMatch(/inbound messages/);
  });

  it('rejects statuses without an id or with a bad timestamp, keeping the good ones', () => {
    const result = normalizeWebhook(
      metaWebhook([metaStatus({ id: '' }), metaStatus({ timestamp: 'soon' }), metaStatus({ id: 'wamid.ok' })]),
    );
    expect(result.updates.map((u) => u.message_id)).toEqual(['wamid.ok']);
    expect(result.rejected.map((r) => r.index)).toEqual([0, 1]);
    expect(result.rejected[0]?.reason).toMatch(/id/);
    expect(result.rejected[1]?.reason).toMatch(/timestamp/);
  });

  it('refuses an envelope for another object with a reason', () => {
    expect(() => normalizeWebhook({ object: 'page', entry: [] })).toThrow(/object must be "whatsapp_business_account"/);
  });
});

describe('normalizeWebhook: AiSensy Project Webhook', () => {
  it('applies the time of every stage the notification carries, skipping "0" and 0', () => {
    const result = normalizeWebhook(aisensyWebhook());
    expect(result.format).toBe('aisensy');
    expect(result.rejected).toEqual([]);
    expect(result.updates).toEqual([
      expect.objectContaining({ status: 'sent', timestamp: isoAt(T0_SECONDS - 3) }),
      expect.objectContaining({ status: 'delivered', timestamp: isoAt(T0_SECONDS) }),
    ]);
    expect(result.updates[0]).toMatchObject({
      message_id: 'wamid.HBgMOTE5ODc2NTQzMjEwFQIAERgSQUlTRU5TWTEyMzQ1Njc4OQA=',
      provider_message_id: '6718b0e5e4b0c2a1d9f3a7b1',
      phone_number: '+919876543210',
      campaign: 'diwali_offer_2024',
    });
    expect(result.updates[0]).not.toHaveProperty('error');
  });

  it("records the sender's project from the envelope, else from the X-AiSensy-Project-Id header", () => {
    const fromEnvelope = normalizeWebhook(aisensyWebhook(), { projectId: '64f0a1b2c3d4e5f6a7b8ffff' });
    expect(fromEnvelope.updates.map((u) => u.sender_project_id)).toEqual([
      '64f0a1b2c3d4e5f6a7b8c9d1',
      '64f0a1b2c3d4e5f6a7b8c9d1',
    ]);
    const { project_id: _p, ...withoutProject } = aisensyWebhook();
    const fromHeader = normalizeWebhook(withoutProject, { projectId: '64f0a1b2c3d4e5f6a7b8ffff' });
    expect(fromHeader.updates[0]?.sender_project_id).toBe('64f0a1b2c3d4e5f6a7b8ffff');
    const neither = normalizeWebhook(withoutProject, { projectId: 'not an id; drop table' });
    expect(neither.rejected).toEqual([]);
    expect(neither.updates[0]).not.toHaveProperty('sender_project_id');
  });

  it('reads times in seconds and as strings', () => {
    const result = normalizeWebhook(
      aisensyWebhook(
        aisensyMessage({
          status: 'READ',
          sent_at: String(T0_SECONDS - 3),
          delivered_at: T0_SECONDS,
          read_at: `${T0_SECONDS + 60}000`,
        }),
      ),
    );
    expect(result.updates.map((u) => [u.status, u.timestamp])).toEqual([
      ['sent', isoAt(T0_SECONDS - 3)],
      ['delivered', isoAt(T0_SECONDS)],
      ['read', isoAt(T0_SECONDS + 60)],
    ]);
  });

  it('keeps the failure code and reason of a FAILED status', () => {
    const result = normalizeWebhook(
      aisensyWebhook(
        aisensyMessage({
          status: 'FAILED',
          delivered_at: 0,
          failed_at: (T0_SECONDS + 2) * 1000,
          failureResponse: { code: 131026, reason: 'Message undeliverable' },
        }),
      ),
    );
    const failed = result.updates.find((u) => u.status === 'failed');
    expect(failed).toMatchObject({
      timestamp: isoAt(T0_SECONDS + 2),
      error: { code: 131026, title: 'Message undeliverable' },
    });
    expect(result.updates.find((u) => u.status === 'sent')).not.toHaveProperty('error');
  });

  it.each([[{}], [{ code: null }], [null]])(
    'treats failureResponse %p on a success as no failure',
    (failureResponse) => {
      const result = normalizeWebhook(aisensyWebhook(aisensyMessage({ failureResponse })));
      expect(result.updates.every((u) => u.error === undefined)).toBe(true);
      expect(result.rejected).toEqual([]);
    },
  );

  it("uses the notification's time when the status's own time is missing", () => {
    const result = normalizeWebhook(aisensyWebhook(aisensyMessage({ status: 'READ', read_at: null })));
    expect(result.updates.find((u) => u.status === 'read')?.timestamp).toBe(isoAt(T0_SECONDS + 1));
  });

  it('acknowledges other topics without queuing anything', () => {
    const result = normalizeWebhook(aisensyWebhook(aisensyMessage(), { topic: 'message.created' }));
    expect(result.updates).toEqual([]);
    expect(result.ignored).toMatch(/message\.created/);
  });

  it('rejects a status without messageId as an item, not a crash', () => {
    const { messageId: _m, ...message } = aisensyMessage();
    const result = normalizeWebhook(aisensyWebhook(message));
    expect(result.updates).toEqual([]);
    expect(result.rejected).toEqual([{ index: 0, reason: expect.stringMatching(/messageId/) }]);
  });

  it('rejects an unknown status that carries no stage time', () => {
    const result = normalizeWebhook(
      aisensyWebhook(aisensyMessage({ status: 'ENQUEUED', sent_at: 0, delivered_at: 0 })),
    );
    expect(result.rejected).toEqual([{ index: 0, reason: 'unknown status "ENQUEUED"' }]);
  });
});

describe("normalizeWebhook: the original guide's flat format", () => {
  it('reads {statuses: [...]} with and without recipient_id', () => {
    const result = normalizeWebhook(
      flatWebhook([
        { id: 'wamid.1', status: 'sent', timestamp: '1704103200', recipient_id: '15551234567' },
        { id: 'wamid.1', status: 'READ', timestamp: 1704103260 },
      ]),
    );
    expect(result.format).toBe('flat');
    expect(result.updates).toEqual([
      { message_id: 'wamid.1', status: 'sent', timestamp: '2024-01-01T10:00:00.000Z', phone_number: '+15551234567' },
      { message_id: 'wamid.1', status: 'read', timestamp: '2024-01-01T10:01:00.000Z' },
    ]);
  });

  it('rejects non-object items with a reason', () => {
    const result = normalizeWebhook(flatWebhook([42, null, { id: 'x', status: 'sent', timestamp: '1704103200' }]));
    expect(result.updates).toHaveLength(1);
    expect(result.rejected.map((r) => r.index)).toEqual([0, 1]);
  });
});

describe('normalizeWebhook: envelopes it does not know', () => {
  it.each([[[]], ['text'], [null], [{ hello: 'world' }], [{ statuses: 'nope' }], [{ topic: 5 }]])(
    'throws WebhookFormatError for %p',
    (body) => {
      expect(() => normalizeWebhook(body)).toThrow(WebhookFormatError);
    },
  );
});
