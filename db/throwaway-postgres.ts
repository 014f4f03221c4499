import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A PostgreSQL server of its own for tests and benchmarks: a fresh cluster in a temporary directory, on loopback
 * and a free port, stopped and deleted afterwards. Needs the server binaries (Debian: `apt-get install postgresql`).
 */
export interface ThrowawayPostgres {
  /** Superuser connection string, e.g. postgres://postgres@127.0.0.1:54321/postgres */
  url: string;
  dataDir: string;
  /** Stops the server but keeps its data (a database outage, for reliability tests). */
  pause(): Promise<void>;
  /** Starts it again on the same port. */
  resume(): Promise<void>;
  stop(): Promise<void>;
}

/** The directory holding initdb and pg_ctl: $PG_BIN, else the newest /usr/lib/postgresql/N/bin. */
export function findPostgresBin(): string | undefined {
  const candidates: string[] = [];
  if (process.env.PG_BIN) candidates.push(process.env.PG_BIN);
  const debianRoot = '/usr/lib/postgresql';
  if (existsSync(debianRoot)) {
    const versions = readdirSync(debianRoot)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => path.join(debianRoot, v, 'bin')));
  }
  return candidates.find((dir) => existsSync(path.join(dir, 'initdb')) && existsSync(path.join(dir, 'pg_ctl')));
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export interface ThrowawayOptions {
  /** Trade durability for speed (fsync off): right for tests, wrong for benchmarks. @default true */
  fast?: boolean;
}

export async function startThrowawayPostgres(options: ThrowawayOptions = {}): Promise<ThrowawayPostgres> {
  const bin = findPostgresBin();
  if (!bin) throw new Error('PostgreSQL server binaries not found (apt-get install postgresql, or set PG_BIN)');
  const dataDir = await mkdtemp(path.join(tmpdir(), 'throwaway-pg-'));
  if (userInfo().uid === 0) await chown(dataDir, ...(await postgresIds()));
  const exec = (file: string, args: string[]) => runPostgresTool(bin, file, args);

  const cluster = path.join(dataDir, 'cluster');
  await exec('initdb', ['-D', cluster, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-locale']);
  const port = await freePort();
  const settings = [
    `-p ${port}`,
    '-c listen_addresses=127.0.0.1',
    `-c unix_socket_directories=${dataDir}`,
    '-c max_connections=200',
    ...(options.fast === false ? [] : ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off']),
  ].join(' ');
  const start = () =>
    exec('pg_ctl', ['-D', cluster, '-o', settings, '-l', path.join(dataDir, 'server.log'), '-w', '-t', '60', 'start']);
  await start();

  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    dataDir,
    async pause() {
      await exec('pg_ctl', ['-D', cluster, '-m', 'fast', '-w', 'stop']);
    },
    async resume() {
      await start();
    },
    async stop() {
      await exec('pg_ctl', ['-D', cluster, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Stops a server started by another process (the CI script), given its data directory. */
export async function stopThrowawayPostgres(dataDir: string): Promise<void> {
  const bin = findPostgresBin();
  if (!bin) return;
  await runPostgresTool(bin, 'pg_ctl', ['-D', path.join(dataDir, 'cluster'), '-m', 'immediate', '-w', 'stop']).catch(
    () => undefined,
  );
  await rm(dataDir, { recursive: true, force: true });
}

/** Runs initdb or pg_ctl; as root, as the `postgres` system user, since initdb refuses to run as root. */
function runPostgresTool(bin: string, file: string, args: string[]) {
  const tool = path.join(bin, file);
  return userInfo().uid === 0 ? run('runuser', ['-u', 'postgres', '--', tool, ...args]) : run(tool, args);
}

async function postgresIds(): Promise<[number, number]> {
  const { stdout: uid } = await run('id', ['-u', 'postgres']);
  const { stdout: gid } = await run('id', ['-g', 'postgres']);
  return [Number(uid.trim()), Number(gid.trim())];
}
