import { spawn } from 'node:child_process';
import { Client } from 'pg';
import { type LoadResult, runLoad } from '../scripts/load-test';
import { startLocalServerProcess, waitUntilDrained } from '../testkit/local-server-process';

export interface EndToEndFigures {
  ours: LoadResult;
  baseline: LoadResult;
  ratioToBaseline: number;
  stored: number;
  exact: boolean;
}

/** The HTTP ceiling of this machine: a bare Node server that reads the body and answers 200, in its own process. */
async function startBareServer(): Promise<{ url: string; stop(): void }> {
  const code = `require('http').createServer((q, s) => { q.resume(); q.on('end', () => { s.writeHead(200, { 'content-type': 'application/json' }); s.end('{"accepted":1,"rejected":[]}'); }); })
    .listen(0, '127.0.0.1', function () { console.log('listening on http://127.0.0.1:' + this.address().port); });`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve) =>
    child.stdout.on('data', (d: Buffer) => {
      const m = /listening on (\S+)/.exec(d.toString());
      if (m?.[1]) resolve(m[1]);
    }),
  );
  return { url, stop: () => child.kill() };
}

export async function benchEndToEnd(databaseUrl: string, short: boolean): Promise<EndToEndFigures> {
  const duration = short ? 3 : 20;
  const bare = await startBareServer();
  const baseline = await runLoad({ url: bare.url, connections: 50, durationSeconds: duration, prefix: 'bare' });
  bare.stop();

  const server = await startLocalServerProcess({
    DATABASE_URL: databaseUrl,
    PROCESSOR_CONCURRENCY: '4',
    PROCESSOR_BATCH_SIZE: '10',
  });
  try {
    const ours = await runLoad({ url: server.url, connections: 50, durationSeconds: duration, prefix: 'e2e' });
    await waitUntilDrained(server.url, 120_000);
    const db = new Client({ connectionString: databaseUrl });
    await db.connect();
    const { rows } = await db.query<{ n: number }>(
      `select count(*)::int as n from broadcasts_messages where message_id like 'wamid.e2e%'`,
    );
    await db.end();
    const stored = rows[0]?.n ?? 0;
    // A timed run stops with requests in flight: they were sent and stored but not counted as answered.
    return {
      ours,
      baseline,
      ratioToBaseline: ours.requestsPerSecond / baseline.requestsPerSecond,
      stored,
      exact: stored === ours.sent && ours.non2xx === 0 && ours.errors === 0,
    };
  } finally {
    await server.stop();
  }
}
