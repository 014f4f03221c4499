import { accountNotification, isLowerTier, remedyFor } from '../../lambdas/domain/account-events';
import { normalizeWebhook } from '../../lambdas/domain/normalize-webhook';
import { packQueueMessages, QueueMessage } from '../../lambdas/domain/queue-message';
import { metaStatus, metaWebhook } from '../../testkit/webhooks';
import {
  ACCOUNT_ALERT,
  ACCOUNT_RESTRICTED,
  accountWebhook,
  CAPABILITY_UPDATE,
  NUMBER_DOWNGRADED,
  NUMBER_FLAGGED,
  NUMBER_UPGRADED,
  TEMPLATE_APPROVED,
  TEMPLATE_DISABLED,
  TEMPLATE_PAUSED,
  TEMPLATE_QUALITY_RED,
  WABA_ID,
} from '../fixtures/account-webhooks';

const only = (field: string, value: unknown) => {
  const result = normalizeWebhook(accountWebhook(field, value));
  expect(result.rejected).toEqual([]);
  expect(result.updates).toEqual([]);
  expect(result.ignored).toBeUndefined();
  expect(result.accountEvents).toHaveLength(1);
  return result.accountEvents[0]!;
};

describe('account and template health webhooks', () => {
  it.each([
    ['phone_number_quality_update', NUMBER_FLAGGED, 'phone_number', '+15550783881', undefined, 'FLAGGED', 'critical'],
    [
      'phone_number_quality_update',
      NUMBER_DOWNGRADED,
      'phone_number',
      '+15550783881',
      undefined,
      'DOWNGRADE',
      'warning',
    ],
    [
      'phone_number_quality_update',
      NUMBER_UPGRADED,
      'phone_number',
      '+15550783881',
      undefined,
      'THROUGHPUT_UPGRADE',
      'info',
    ],
    [
      'message_template_status_update',
      TEMPLATE_DISABLED,
      'template',
      '1689556908129832',
      'order_confirmation (en-US)',
      'DISABLED',
      'critical',
    ],
    [
      'message_template_status_update',
      TEMPLATE_PAUSED,
      'template',
      '1054512345678901',
      'testing_template (en)',
      'PAUSED',
      'warning',
    ],
    [
      'message_template_status_update',
      TEMPLATE_APPROVED,
      'template',
      '1689556908129832',
      'order_confirmation (en-US)',
      'APPROVED',
      'info',
    ],
    [
      'message_template_quality_update',
      TEMPLATE_QUALITY_RED,
      'template',
      '1689556908129832',
      'order_confirmation (en-US)',
      'RED',
      'warning',
    ],
    [
      'account_alerts',
      ACCOUNT_ALERT,
      'account',
      '506914307656634',
      undefined,
      'INCREASED_CAPABILITIES_ELIGIBILITY_DEFERRED',
      'warning',
    ],
    [
      'account_update',
      ACCOUNT_RESTRICTED,
      'phone_number',
      '+15550783881',
      undefined,
      'ACCOUNT_RESTRICTION',
      'critical',
    ],
    ['business_capability_update', CAPABILITY_UPDATE, 'account', undefined, undefined, 'CAPABILITY_UPDATE', 'info'],
  ])(
    '%s %#: classified by subject, event and severity, the value kept whole',
    (field, value, type, id, name, event, severity) => {
      const recorded = only(field, value);
      expect(recorded).toEqual({
        field,
        waba_id: WABA_ID,
        occurred_at: '2025-05-28T17:46:34.000Z',
        subject_type: type,
        ...(id ? { subject_id: id } : {}),
        ...(name ? { subject_name: name } : {}),
        event,
        severity,
        detail: value,
      });
    },
  );

  it('treats a lower messaging limit as a warning even when the event does not say DOWNGRADE', () => {
    const lowered = only('phone_number_quality_update', { ...NUMBER_DOWNGRADED, event: 'THROUGHPUT_CHANGE' });
    expect(lowered.severity).toBe('warning');
    expect(isLowerTier('TIER_10K', 'TIER_2K')).toBe(true);
    expect(isLowerTier('TIER_2K', 'TIER_10K')).toBe(false);
    expect(isLowerTier('TIER_NOT_SET', 'TIER_50')).toBe(false);
    expect(isLowerTier('TIER_SOMETHING_NEW', 'TIER_50')).toBe(false);
  });

  it('keeps unknown future fields in the detail, and reads a missing optional one as absent', () => {
    const future = { ...TEMPLATE_PAUSED, new_field_2027: { nested: [1, 2] } };
    const { message_template_language: _l, ...withoutLanguage } = future;
    const recorded = only('message_template_status_update', withoutLanguage);
    expect(recorded.detail).toMatchObject({ new_field_2027: { nested: [1, 2] } });
    expect(recorded.subject_name).toBe('testing_template');
  });

  it("takes the receipt's time when Meta's entry has none, and rejects the change when there is neither", () => {
    const webhook = accountWebhook('message_template_status_update', TEMPLATE_DISABLED, null);
    const receipt = { receivedAtMs: Date.UTC(2026, 10, 25, 10), window: { maxPastMs: 1e12, maxFutureMs: 1e12 } };
    expect(normalizeWebhook(webhook, { receipt }).accountEvents[0]?.occurred_at).toBe('2026-11-25T10:00:00.000Z');
    const without = normalizeWebhook(webhook);
    expect(without.accountEvents).toEqual([]);
    expect(without.rejected).toEqual([{ index: 0, reason: 'message_template_status_update: entry time is missing' }]);
  });

  it('rejects a change it cannot read, with its field, and keeps the statuses and the other changes', () => {
    const body = metaWebhook([metaStatus({ id: 'wamid.A' })]);
    (body.entry as Record<string, unknown>[]).push({
      id: WABA_ID,
      time: 1748454394,
      changes: [
        { field: 'message_template_status_update', value: 'not an object' },
        { field: 'phone_number_quality_update', value: { display_phone_number: '15550783881' } },
        { field: 'account_update', value: ACCOUNT_RESTRICTED },
        { field: 'some_future_field', value: { x: 1 } },
      ],
    });
    const result = normalizeWebhook(body);
    expect(result.updates.map((u) => u.message_id)).toEqual(['wamid.A']);
    expect(result.accountEvents.map((e) => e.event)).toEqual(['ACCOUNT_RESTRICTION']);
    expect(result.rejected).toEqual([
      { index: 0, reason: 'message_template_status_update: value expected an object' },
      { index: 1, reason: 'phone_number_quality_update: event is missing' },
    ]);
  });

  it('bounds the detail: a value nested past the limit is rejected, not stored', () => {
    let deep: Record<string, unknown> = { event: 'PAUSED' };
    for (let i = 0; i < 20; i++) deep = { event: 'PAUSED', inner: deep };
    const result = normalizeWebhook(accountWebhook('message_template_status_update', deep));
    expect(result.accountEvents).toEqual([]);
    expect(result.rejected[0]?.reason).toMatch(/^message_template_status_update: value /);
  });

  it('says what to do for every event that pages', () => {
    expect(remedyFor({ field: 'phone_number_quality_update', event: 'FLAGGED' })).toMatch(/pause marketing/);
    expect(remedyFor({ field: 'message_template_status_update', event: 'DISABLED' })).toMatch(/new template/);
    expect(remedyFor({ field: 'message_template_status_update', event: 'PAUSED' })).toMatch(/paused/);
    expect(remedyFor({ field: 'account_update', event: 'ACCOUNT_RESTRICTION' })).toMatch(/restriction_info/);
    expect(remedyFor({ field: 'business_capability_update', event: 'CAPABILITY_UPDATE' })).toBe('No action needed.');
  });
});

describe('accountNotification', () => {
  it('names the template, what happened, when, and what to do', () => {
    const disabled = only('message_template_status_update', TEMPLATE_DISABLED);
    expect(accountNotification(disabled)).toEqual({
      severity: 'critical',
      subject: '[CRITICAL] WhatsApp template order_confirmation (en-US): disabled',
      message: expect.stringContaining('What to do: The template is disabled for low quality'),
    });
    expect(accountNotification(disabled)?.message).toMatch(
      /^WhatsApp template order_confirmation \(en-US\): disabled\./,
    );
    expect(accountNotification(disabled)?.message).toMatch(
      /When: 2025-05-28T17:46:34.000Z {2}WhatsApp Business Account: 102290129340398/,
    );
  });

  it("quotes Meta's own description and the limits of a downgraded number", () => {
    const paused = accountNotification(only('message_template_status_update', TEMPLATE_PAUSED))!;
    expect(paused.severity).toBe('warning');
    expect(paused.message).toMatch(/Meta says: Your WhatsApp message template has been paused for 6 hours/);
    const downgraded = accountNotification(only('phone_number_quality_update', NUMBER_DOWNGRADED))!;
    expect(downgraded.subject).toBe(
      '[WARNING] WhatsApp number +15550783881: messaging limit TIER_10K -> TIER_2K (DOWNGRADE)',
    );
  });

  it('sends nothing for informational events, and keeps subjects within SNS limits', () => {
    expect(accountNotification(only('message_template_status_update', TEMPLATE_APPROVED))).toBeUndefined();
    const long = only('message_template_status_update', {
      ...TEMPLATE_DISABLED,
      message_template_name: 'x'.repeat(300),
    });
    expect(accountNotification(long)!.subject.length).toBeLessThanOrEqual(100);
  });
});

describe('queue messages with account events', () => {
  it('packs statuses and account events together within the limits, and a message of events alone parses', () => {
    const { accountEvents } = normalizeWebhook(accountWebhook('message_template_status_update', TEMPLATE_DISABLED));
    const statuses = normalizeWebhook(metaWebhook([metaStatus()])).updates;
    const [[mixed]] = packQueueMessages(statuses, 'req-1', {}, accountEvents) as [[string]];
    expect(QueueMessage.parse(JSON.parse(mixed))).toMatchObject({ statuses, account_events: accountEvents });
    const [[eventsOnly]] = packQueueMessages([], 'req-2', {}, accountEvents) as [[string]];
    expect(QueueMessage.parse(JSON.parse(eventsOnly))).toMatchObject({ statuses: [], account_events: accountEvents });
    // A message of statuses alone keeps the shape older processors read.
    const [[plain]] = packQueueMessages(statuses, 'req-3') as [[string]];
    expect(JSON.parse(plain)).not.toHaveProperty('account_events');
    // Many events split over messages by count, every one kept once.
    const many = Array.from({ length: 25 }, (_, i) => ({ ...accountEvents[0]!, subject_id: String(i) }));
    const bodies = packQueueMessages([], undefined, { maxStatusesPerMessage: 10 }, many).flat();
    expect(bodies).toHaveLength(3);
    expect(bodies.flatMap((b) => QueueMessage.parse(JSON.parse(b)).account_events ?? [])).toEqual(many);
  });

  it('refuses a message with neither statuses nor events', () => {
    expect(QueueMessage.safeParse({ v: 1, statuses: [] }).success).toBe(false);
  });
});
