import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** How long a start may take to listen: it migrates PGlite first, which has taken over a minute on a loaded CI. */
export const LISTEN_DEADLINE_MS = 120_000;

const ROOT = path.resolve(__dirname, '..');

export interface LocalServerProcess {
  url: string;
  output: () => string;
  /** SIGTERM to the process group; resolves when every process of it is gone (its output closed). */
  stop(): Promise<void>;
}

/** Runs `npm start` (the real local server) in its own process group on a free port; resolves once it listens. */
export async function startLocalServerProcess(env: Record<string, string>): Promise<LocalServerProcess> {
  const child: ChildProcess = spawn('npm', ['start', '--silent'], {
    cwd: ROOT,
    // A spool of its own unless the test names one: a shutdown must never hand its queue to another test's server.
    // Likewise its own events file and archive, so tests never write into the working tree's .data/.
    env: {
      ...process.env,
      PORT: '0',
      LOG_LEVEL: 'WARN',
      POWERTOOLS_LOG_LEVEL: 'WARN',
      SPOOL_FILE: path.join(mkdtempSync(path.join(tmpdir(), 'spool-')), 'spool.json'),
      ARCHIVE_DIR: mkdtempSync(path.join(tmpdir(), 'archive-')),
      STATUS_EVENTS_FILE: path.join(mkdtempSync(path.join(tmpdir(), 'events-')), 'events.ndjson'),
      ...env,
    },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let closed = false;
  child.once('close', () => (closed = true));
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`npm start did not listen in time:\n${output}`)),
      LISTEN_DEADLINE_MS,
    );
    const check = () => {
      const match = /listening on (http:\/\/[\d.:]+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited with ${code}:\n${output}`));
    });
  });
  child.removeAllListeners('exit');
  return {
    url,
    output: () => output,
    async stop() {
      if (closed) return;
      // 'close', not 'exit': npm exits on the signal at once, the server (its child, holding the same pipes) only
      // once its shutdown is done, and what it says then is part of the output.
      const exited = new Promise((resolve) => child.once('close', resolve));
      process.kill(-(child.pid ?? 0), 'SIGTERM');
      await exited;
    },
  };
}

export async function postJson(url: string, body: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

/** Waits until the local queue has nothing visible or in flight. */
export async function waitUntilDrained(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const health = (await (await fetch(`${url}/health`)).json()) as { queue: { visible: number; inFlight: number } };
    if (health.queue.visible === 0 && health.queue.inFlight === 0) return;
    if (Date.now() > deadline) throw new Error(`queue not drained: ${JSON.stringify(health.queue)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
