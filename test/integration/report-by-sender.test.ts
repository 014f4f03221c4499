import { normalizeWebhook } from '../../lambdas/domain/normalize-webhook';
import { buildReport } from '../../lambdas/report/report-data';
import { SqlTrackerStore } from '../../lambdas/store/sql-tracker-store';
import { aisensyMessage, aisensyWebhook, metaStatus, metaWebhook, T0_SECONDS } from '../../testkit/webhooks';
import { accountWebhook, NUMBER_FLAGGED, TEMPLATE_APPROVED, TEMPLATE_PAUSED } from '../fixtures/account-webhooks';
import { availableEngines, createTestDatabase, type TestDatabase } from '../support/databases';

/** Two Meta numbers of one account, one AiSensy project, and a status from the original guide's flat format. */
function webhooks() {
  const meta = metaWebhook(
    [
      metaStatus({ id: 'wamid.N1a', status: 'read', biz_opaque_callback_data: 'diwali' }),
      metaStatus({ id: 'wamid.N1b', status: 'delivered', biz_opaque_callback_data: 'diwali' }),
    ],
    [metaStatus({ id: 'wamid.N2a', status: 'sent', biz_opaque_callback_data: 'diwali' })],
  );
  // The second change is another number of the same account.
  const changes = (meta.entry as { changes: { value: { metadata: unknown } }[] }[])[0]!.changes;
  changes[1]!.value.metadata = { display_phone_number: '919800012345', phone_number_id: '330012345678901' };
  const aisensy = aisensyWebhook(aisensyMessage({ messageId: 'wamid.P1', campaign: { name: 'diwali' } }));
  const flat = { statuses: [metaStatus({ id: 'wamid.F1', status: 'sent' })] };
  return [meta, aisensy, flat].flatMap((body) => normalizeWebhook(body).updates);
}

describe.each(availableEngines())('delivery_report_by on %s', (engine) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase(engine);
    await new SqlTrackerStore(db.executor).applyStatusUpdates(webhooks());
  });
  afterAll(() => db.drop());

  const period = [
    new Date((T0_SECONDS - 3600) * 1000).toISOString(),
    new Date((T0_SECONDS + 3600) * 1000).toISOString(),
  ];

  it('splits the figures by sender (display number, else the AiSensy project), and by campaign within sender', async () => {
    const { rows } = await db.executor.query<Record<string, unknown>>(
      `select sender, campaign, total_messages::int as total, delivered::int as delivered, read::int as read
         from public.delivery_report_by($1, $2, true, true)`,
      period,
    );
    expect(rows).toEqual([
      { sender: '(unknown sender)', campaign: '(none)', total: 1, delivered: 0, read: 0 },
      { sender: '+15550783881', campaign: 'diwali', total: 2, delivered: 2, read: 1 },
      { sender: '+919800012345', campaign: 'diwali', total: 1, delivered: 0, read: 0 },
      { sender: 'AiSensy project 64f0a1b2c3d4e5f6a7b8c9d1', campaign: 'diwali', total: 1, delivered: 1, read: 0 },
    ]);
  });

  it('keeps delivery_report and delivery_summary as they were: the same totals as the sender rows add up to', async () => {
    const { rows: bySender } = await db.executor.query<{ total: number; delivered: number }>(
      `select total_messages::int as total, delivered::int as delivered from public.delivery_report_by($1, $2, true)`,
      period,
    );
    const { rows: overall } = await db.executor.query<{ campaign: string | null; total: number; delivered: number }>(
      `select campaign, total_messages::int as total, delivered::int as delivered from public.delivery_report($1, $2)`,
      period,
    );
    expect(overall).toEqual([
      {
        campaign: null,
        total: bySender.reduce((sum, r) => sum + r.total, 0),
        delivered: bySender.reduce((sum, r) => sum + r.delivered, 0),
      },
    ]);
    const { rows: byCampaign } = await db.executor.query<{ campaign: string; total: number }>(
      `select campaign, total_messages::int as total from public.delivery_report($1, $2, true)`,
      period,
    );
    expect(byCampaign).toEqual([
      { campaign: 'diwali', total: 4 },
      { campaign: '(none)', total: 1 },
    ]);
  });

  it('puts the senders, the numbers and the templates needing attention in the report', async () => {
    const store = new SqlTrackerStore(db.executor);
    for (const [field, value] of [
      ['phone_number_quality_update', NUMBER_FLAGGED],
      ['message_template_status_update', TEMPLATE_APPROVED],
      ['message_template_status_update', TEMPLATE_PAUSED],
    ] as const)
      await store.recordAccountEvents(normalizeWebhook(accountWebhook(field, value)).accountEvents);
    const report = await buildReport(async (sql, params) => (await db.executor.query(sql, params)).rows, {
      from: new Date(period[0]!),
      to: new Date(period[1]!),
    });
    expect(report.by_sender.map((r) => [r.sender, r.total_messages])).toEqual([
      ['(unknown sender)', 1],
      ['+15550783881', 2],
      ['+919800012345', 1],
      ['AiSensy project 64f0a1b2c3d4e5f6a7b8c9d1', 1],
    ]);
    expect(report.by_sender_campaign).toHaveLength(4);
    expect(report.numbers).toMatchObject([{ phone_number: '+15550783881', quality_event: 'FLAGGED' }]);
    // The approved template is not listed; the paused one is.
    expect(report.templates.map((t) => [t.template, t.status])).toEqual([['testing_template (en)', 'PAUSED']]);
  });
});
