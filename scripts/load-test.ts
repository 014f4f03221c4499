/**
 * Load against a running local server (`npm start`): 1-status webhooks, each for a new message id, over many
 * connections with autocannon. Used by the load test (short) and the benchmark (longer); `npm run load` runs it
 * against URL (default http://127.0.0.1:3000) and prints the figures.
 */
import autocannon from 'autocannon';
import { parseCli } from '../lambdas/shared/cli';

export interface LoadOptions {
  url: string;
  connections: number;
  /** Stop after this many requests ... */
  amount?: number;
  /** ... or after this many seconds. */
  durationSeconds?: number;
  /** Message ids are `wamid.<prefix><n>`. */
  prefix: string;
}

export interface LoadResult {
  /** Webhooks written to the wire (each a new message id). */
  sent: number;
  requests: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  requestsPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  durationSeconds: number;
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  let counter = 0;
  // A time the receiving server accepts (statuses far from their receipt are refused): the start of the run.
  const timestamp = String(Math.floor(Date.now() / 1000));
  const result = await autocannon({
    url: `${options.url}/webhook`,
    connections: options.connections,
    // autocannon refuses an explicit undefined: pass only what was asked for.
    ...(options.amount !== undefined ? { amount: options.amount } : {}),
    ...(options.durationSeconds !== undefined ? { duration: options.durationSeconds } : {}),
    timeout: 10,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        setupRequest: (request) => {
          const id = `wamid.${options.prefix}${counter++}`;
          return {
            ...request,
            body: JSON.stringify({ statuses: [{ id, status: 'sent', timestamp, recipient_id: '15550001111' }] }),
          };
        },
      },
    ],
  });
  return {
    sent: counter,
    requests: result.requests.total,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    requestsPerSecond: result.requests.average,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    durationSeconds: result.duration,
  };
}

if (require.main === module) {
  parseCli({
    name: 'load',
    usage: 'npm run load (settings from the environment: URL, CONNECTIONS, DURATION seconds)',
    options: {},
  });
  const url = process.env.URL ?? 'http://127.0.0.1:3000';
  runLoad({
    url,
    connections: Number(process.env.CONNECTIONS ?? 50),
    durationSeconds: Number(process.env.DURATION ?? 20),
    prefix: `load${Date.now()}-`,
  }).then((r) => {
    process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    process.stdout.write(`expect ${r.ok} new rows with message_id like 'wamid.load%'\n`);
  });
}
