import type { AccountNotification } from '../../lambdas/domain/account-events';
import { normalizeWebhook } from '../../lambdas/domain/normalize-webhook';
import { packQueueMessages } from '../../lambdas/domain/queue-message';
import type { AccountNotifier } from '../../lambdas/processor/account-notifier';
import { createStatusBatchProcessor } from '../../lambdas/processor/process-status-batch';
import { SqlTrackerStore } from '../../lambdas/store/sql-tracker-store';
import { sqsEvent, sqsRecord } from '../../testkit/events';
import { metaStatus, metaWebhook } from '../../testkit/webhooks';
import {
  accountWebhook,
  NUMBER_FLAGGED,
  TEMPLATE_APPROVED,
  TEMPLATE_DISABLED,
  TEMPLATE_PAUSED,
} from '../fixtures/account-webhooks';
import { availableEngines, createTestDatabase, type TestDatabase } from '../support/databases';
import { capturingMetrics, silentLogger } from '../support/powertools';
import { readRows } from '../support/status-rows';

/** The queue message bodies the ingest would send for these webhooks. */
const bodiesOf = (...webhooks: unknown[]) =>
  webhooks.flatMap((webhook) => {
    const { updates, accountEvents } = normalizeWebhook(webhook);
    return packQueueMessages(updates, 'req-1', {}, accountEvents).flat();
  });

function recordingNotifier(failing = false): AccountNotifier & { sent: AccountNotification[] } {
  const sent: AccountNotification[] = [];
  return {
    sent,
    async notify(notification) {
      if (failing) throw Object.assign(new Error('SNS is down'), { name: 'InternalErrorException' });
      sent.push(notification);
    },
  };
}

describe.each(availableEngines())('the processor with account and template events on %s', (engine) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(engine);
  });
  afterAll(() => db.drop());
  beforeEach(() => db.executor.exec('truncate public.broadcasts_messages, public.account_events'));

  const processorWith = (notifier: AccountNotifier, metrics = capturingMetrics()) => ({
    metrics,
    process: createStatusBatchProcessor({
      store: () => new SqlTrackerStore(db.executor),
      logger: silentLogger(),
      metrics: metrics.metrics,
      accountNotifier: notifier,
    }),
  });

  it('records the events beside the statuses, notifies each critical or warning one once, and counts them', async () => {
    const notifier = recordingNotifier();
    const { process, metrics } = processorWith(notifier);
    try {
      const bodies = bodiesOf(
        metaWebhook([metaStatus({ id: 'wamid.A' })]),
        accountWebhook('message_template_status_update', TEMPLATE_DISABLED),
        accountWebhook('message_template_status_update', TEMPLATE_APPROVED),
        accountWebhook('phone_number_quality_update', NUMBER_FLAGGED),
        accountWebhook('message_template_status_update', TEMPLATE_PAUSED),
      );
      const batch = sqsEvent(...bodies.map((b, i) => sqsRecord(b, `m${i}`)));
      expect(await process(batch)).toEqual({ batchItemFailures: [] });
      // Meta sends the same webhooks again: recorded once, notified once.
      expect(await process(batch)).toEqual({ batchItemFailures: [] });

      expect((await readRows(db.executor)).map((r) => r.message_id)).toEqual(['wamid.A']);
      const { rows } = await db.executor.query<{ event: string }>('select event from account_events order by id');
      expect(rows.map((r) => r.event).sort()).toEqual(['APPROVED', 'DISABLED', 'FLAGGED', 'PAUSED']);
      expect(notifier.sent.map((n) => [n.severity, n.subject])).toEqual([
        ['critical', '[CRITICAL] WhatsApp number +15550783881: flagged for low quality (RED)'],
        ['critical', '[CRITICAL] WhatsApp template order_confirmation (en-US): disabled'],
        ['warning', '[WARNING] WhatsApp template testing_template (en): paused'],
      ]);
      const counted = metrics.values('AccountEvents').map((v) => [v.dimensions.Severity, v.value]);
      expect(counted.sort()).toEqual([
        ['critical', 2],
        ['info', 1],
        ['warning', 1],
      ]);
    } finally {
      metrics.restore();
    }
  });

  it('keeps the event when its notification cannot be sent: counted, logged, and the batch succeeds', async () => {
    const { process, metrics } = processorWith(recordingNotifier(true));
    try {
      const [body] = bodiesOf(accountWebhook('message_template_status_update', TEMPLATE_DISABLED));
      expect(await process(sqsEvent(sqsRecord(body!, 'm1')))).toEqual({ batchItemFailures: [] });
      const { rows } = await db.executor.query<{ n: number }>('select count(*)::int as n from account_events');
      expect(rows).toEqual([{ n: 1 }]);
      expect(metrics.values('AccountNotificationFailures').map((v) => v.value)).toEqual([1]);
    } finally {
      metrics.restore();
    }
  });
});
