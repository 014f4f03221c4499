/**
 * `npx tsx bench/hostile-input.ts`: CPU time of the ingest handler (authentication off, queue a no-op) for the
 * hostile bodies of issue 11 and their neighbours, per 100 KB of body. Best of 7 runs after 3 warm-up rounds, as
 * process CPU time (user + system), so a busy shared machine inflates it less than wall time would.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { NO_CREDENTIALS } from '../lambdas/domain/webhook-auth';
import { createIngestHandler } from '../lambdas/ingest/ingest-webhook';

process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';

const ingest = createIngestHandler({
  queue: { send: async () => undefined },
  logger: new Logger({ logLevel: 'SILENT' }),
  metrics: new Metrics({ namespace: 'Bench', logger: new Logger({ logLevel: 'SILENT' }) }),
  maxBodyBytes: 1_048_576,
  credentials: () => NO_CREDENTIALS,
  requireAuth: false,
});

const event = (body: string) =>
  ({
    httpMethod: 'POST',
    headers: {},
    body,
    isBase64Encoded: false,
    requestContext: { requestId: 'bench' },
  }) as unknown as APIGatewayProxyEvent;
const repeat = (n: number, item: string) => Array(n).fill(item).join(',');
const keys = (n: number) => Array.from({ length: n }, (_, i) => `"k${i}":0`).join(',');
const status = (extra = '') =>
  `{"id":"wamid.1","status":"sent","timestamp":"1729670370","recipient_id":"919876543210"${extra}}`;
const meta = (statuses: string) =>
  `{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"statuses":[${statuses}]}}]}]}`;

const SHAPES: Record<string, string> = {
  'conversation nested 4,500 levels (item 6)': meta(
    status(`,"conversation":{"a":${'['.repeat(4_500)}1${']'.repeat(4_500)}}`),
  ),
  '130,000 Meta statuses (item 7)': meta(repeat(130_000, '0')),
  '300,000 empty items (item 8)': `{"statuses":[${repeat(300_000, '{}')}]}`,
  '300,000 Meta changes': `{"object":"whatsapp_business_account","entry":[{"changes":[${repeat(300_000, '{}')}]}]}`,
  '5,000 empty items': `{"statuses":[${repeat(5_000, '{}')}]}`,
  '5,000 items failing zod': `{"statuses":[${repeat(5_000, '{"id":"w","status":"x","timestamp":1,"errors":5}')}]}`,
  '5,000 items nested 40 levels': `{"statuses":[${repeat(5_000, status(`,"conversation":{"a":${'['.repeat(40)}1${']'.repeat(40)}}`))}]}`,
  'one status, 300,000 errors': `{"statuses":[${status(`,"errors":[${repeat(300_000, '{}')}]`)}]}`,
  'one status, 80,000 keys': `{"statuses":[${status(`,${keys(80_000)}`)}]}`,
  'conversation of 80,000 keys': `{"statuses":[${status(`,"conversation":{${keys(80_000)}}`)}]}`,
  'metadata of 80,000 keys': `{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"x","value":{"metadata":{${keys(80_000)}}}}]}]}`,
  '500,000 levels of nesting': `{"statuses":${'['.repeat(500_000)}${']'.repeat(500_000)}}`,
  '5,000 valid statuses (baseline)': meta(
    repeat(5_000, status(',"conversation":{"id":"c","origin":{"type":"marketing"}},"pricing":{"billable":true}')),
  ),
};

async function main(): Promise<void> {
  for (let round = 0; round < 3; round++) for (const body of Object.values(SHAPES)) await ingest(event(body));
  const rows: { shape: string; kb: number; status: number; cpuMs: number; perHundredKb: number }[] = [];
  for (const [shape, body] of Object.entries(SHAPES)) {
    let best = Infinity;
    let status = 0;
    for (let run = 0; run < 7; run++) {
      const before = process.cpuUsage();
      status = (await ingest(event(body))).statusCode;
      const used = process.cpuUsage(before);
      best = Math.min(best, (used.user + used.system) / 1000);
    }
    rows.push({
      shape,
      kb: Math.round(body.length / 1024),
      status,
      cpuMs: +best.toFixed(1),
      perHundredKb: +((best * 102_400) / body.length).toFixed(1),
    });
  }
  console.table(rows);
  const worst = rows
    .filter((r) => !r.shape.includes('baseline'))
    .reduce((a, b) => (b.perHundredKb > a.perHundredKb ? b : a));
  console.log(
    `worst hostile shape: ${worst.shape}, ${worst.perHundredKb} ms of CPU per 100 KB; any status >= 500: ${rows.some((r) => r.status >= 500)}`,
  );
}

void main();
