import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { OUTAGE_BACKOFF_MAX_SECONDS } from '../lambdas/domain/outage-backoff';
import { NO_CREDENTIALS } from '../lambdas/domain/webhook-auth';
import { createIngestHandler } from '../lambdas/ingest/ingest-webhook';
import { SqsStatusQueue } from '../lambdas/ingest/status-queue';
import { LocalQueue } from '../local/local-queue';
import { startSqsEndpoint } from '../local/sqs-endpoint';
import { bundleLambdas } from '../scripts/bundle-lambdas';
import { webhookEvent } from '../testkit/events';
import { startFakeSecretsManager } from '../testkit/fake-secrets-manager';
import { aisensyWebhook, flatWebhook, metaStatus, metaWebhook } from '../testkit/webhooks';
import { median, percentile, sample } from './stats';

const run = promisify(execFile);

export interface IngestFigures {
  baselineSendMs: number;
  handler: Record<string, { statuses: number; medianMs: number; p99Ms: number; ratioToSend: number }>;
  bundles: Record<string, number>;
  coldInit: { ingestMs: number; processorMs: number; bareImportMs: number; ingestRatio: number };
}

const ROOT = path.resolve(__dirname, '..');

export async function benchIngest(short: boolean): Promise<IngestFigures> {
  const queue = new LocalQueue({ name: 'bench' });
  const endpoint = await startSqsEndpoint(queue);
  const client = new SQSClient({
    endpoint: endpoint.endpoint,
    region: 'local',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  const ingest = createIngestHandler({
    queue: new SqsStatusQueue(client, endpoint.queueUrl),
    logger: new Logger({ logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: 'Bench', logger: new Logger({ logLevel: 'SILENT' }) }),
    maxBodyBytes: 4 * 1024 * 1024,
    credentials: () => NO_CREDENTIALS,
    requireAuth: false,
  });
  const drain = () => {
    for (const r of queue.receive(100_000)) queue.delete(r.receiptHandle);
  };
  const small = short ? 60 : 400;
  const big = short ? 10 : 60;

  // Baseline: one bare SendMessageBatch of one small message to the same endpoint: the floor of any ingest.
  const baseline = median(
    await sample(small, async () => {
      await client.send(
        new SendMessageBatchCommand({ QueueUrl: endpoint.queueUrl, Entries: [{ Id: '0', MessageBody: '{"v":1}' }] }),
      );
      drain();
    }),
  );

  const many = (n: number) => Array.from({ length: n }, (_, i) => metaStatus({ id: `wamid.b${i}` }));
  const cases: [string, number, unknown][] = [
    ['aisensy_1', 1, aisensyWebhook()],
    ['meta_1', 1, metaWebhook(many(1))],
    ['meta_1000', 1000, metaWebhook(many(1000))],
    ['flat_1', 1, flatWebhook([{ id: 'wamid.f', status: 'sent', timestamp: '1704103200' }])],
    [
      'flat_1000',
      1000,
      flatWebhook(
        Array.from({ length: 1000 }, (_, i) => ({ id: `wamid.f${i}`, status: 'sent', timestamp: '1704103200' })),
      ),
    ],
  ];
  const handler: IngestFigures['handler'] = {};
  for (const [name, statuses, body] of cases) {
    const event = webhookEvent(JSON.stringify(body));
    const times = await sample(statuses > 1 ? big : small, async () => {
      const response = await ingest(event);
      if (response.statusCode !== 200) throw new Error(`${name}: ${response.statusCode} ${response.body}`);
      drain();
    });
    handler[name] = {
      statuses,
      medianMs: median(times),
      p99Ms: percentile(times, 99),
      ratioToSend: median(times) / baseline,
    };
  }

  const built = await bundleLambdas(path.join(ROOT, '.build', 'bench'));
  const bundles = Object.fromEntries(built.map((b) => [b.name, b.bytes]));

  // Cold initialisation: a fresh Node process imports the bundle and handles one event; timed inside the process
  // (import to response), so Node's own start-up is left out. Baseline: the same for an empty ESM module.
  const secrets = await startFakeSecretsManager({ 'bench/webhook': { META_APP_SECRET: 'bench-secret' } });
  const emptyModule = path.join(ROOT, '.build', 'bench', 'empty.mjs');
  mkdirSync(path.dirname(emptyModule), { recursive: true });
  writeFileSync(emptyModule, 'export const handler = async () => ({ statusCode: 200 });\n');
  const body = JSON.stringify(flatWebhook([{ id: 'wamid.cold', status: 'sent', timestamp: '1704103200' }]));
  const event = webhookEvent(body, {
    headers: { 'x-hub-signature-256': `sha256=${createHmac('sha256', 'bench-secret').update(body).digest('hex')}` },
  });
  const env = {
    PATH: process.env.PATH ?? '',
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'x',
    AWS_SECRET_ACCESS_KEY: 'x',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_TRACE_ENABLED: 'false',
    QUEUE_URL: endpoint.queueUrl,
    WEBHOOK_SECRET_ID: 'bench/webhook',
    SUPABASE_URL: 'http://127.0.0.1:9',
    SUPABASE_SERVICE_ROLE_KEY: 'x',
    // The processor's outage backoff, as the stack passes it by default (visibility timeout 180 s, at most 1 h).
    OUTAGE_BACKOFF_BASE_SECONDS: '180',
    OUTAGE_BACKOFF_MAX_SECONDS: String(OUTAGE_BACKOFF_MAX_SECONDS),
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
    BENCH_EVENT: JSON.stringify(event),
  };
  const script = `const t = performance.now(); const { handler } = await import(process.argv[1]);
    const r = await handler(JSON.parse(process.env.BENCH_EVENT), { functionName: 'bench', awsRequestId: '1' });
    if (r && r.statusCode && r.statusCode !== 200) throw new Error(JSON.stringify(r));
    process.stdout.write('\\nINIT ' + (performance.now() - t) + '\\n');`;
  const coldOnce = async (file: string) => {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script, file], {
      env,
      timeout: 30_000,
    });
    return Number(/INIT ([\d.]+)/.exec(stdout)?.[1]);
  };
  const repeat = async (file: string, n: number) => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(await coldOnce(file));
    return median(out);
  };
  const reps = short ? 3 : 7;
  const ingestCold = await repeat(built.find((b) => b.name === 'ingest')!.file, reps);
  // The processor handles an empty batch: import and initialisation, no database call.
  const processorCold = await (async () => {
    const out: number[] = [];
    for (let i = 0; i < reps; i++) {
      const { stdout } = await run(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          script.replace('JSON.parse(process.env.BENCH_EVENT)', '{ Records: [] }'),
          built.find((b) => b.name === 'processor')!.file,
        ],
        { env, timeout: 30_000 },
      );
      out.push(Number(/INIT ([\d.]+)/.exec(stdout)?.[1]));
    }
    return median(out);
  })();
  const bare = await repeat(emptyModule, reps);

  await secrets.close();
  client.destroy();
  await endpoint.close();
  return {
    baselineSendMs: baseline,
    handler,
    bundles,
    coldInit: { ingestMs: ingestCold, processorMs: processorCold, bareImportMs: bare, ingestRatio: ingestCold / bare },
  };
}
