import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createPgliteExecutor, type PgliteExecutor, type PgliteOptions } from '../lambdas/store/pglite-executor';

/** The embedded database is open in another process: the message names it and what to do. */
export class EmbeddedDatabaseBusyError extends Error {
  override name = 'EmbeddedDatabaseBusyError';
}

interface LockOwner {
  pid: number;
  holder: string;
}

/**
 * The embedded database in `dataDir` (PGlite), opened by one process at a time. PGlite has no lock of its own: a
 * second process (an `npm run erase` while `npm start` runs) works on its own copy and writes it back over the first
 * one's, so an erasure it reports as done is lost and the next one collides with its keys. The opener therefore
 * holds `<dataDir>.lock` (its pid and `holder`, e.g. "npm start") while the database is open; another opener finds it
 * and stops with a message naming the holder. A lock whose process is gone (a crash, a kill -9) is taken over.
 */
export async function openEmbeddedDatabase(
  dataDir: string,
  holder = `npm run ${path.basename(process.argv[1] ?? 'tool', '.ts')}`,
  options: PgliteOptions = {},
): Promise<PgliteExecutor> {
  const release = holdEmbeddedDatabaseLock(dataDir, holder);
  let executor: PgliteExecutor;
  try {
    executor = await createPgliteExecutor(dataDir, options);
  } catch (error) {
    release();
    throw error;
  }
  return {
    ...executor,
    async close() {
      try {
        await executor.close();
      } finally {
        release();
      }
    },
  };
}

/**
 * The lock of openEmbeddedDatabase alone: takes `<dataDir>.lock` for `holder` or throws EmbeddedDatabaseBusyError
 * naming the live process that holds it; returns what lets it go.
 */
export function holdEmbeddedDatabaseLock(dataDir: string, holder: string): () => void {
  const lock = lockFileOf(dataDir);
  takeLock(lock, dataDir, holder);
  return () => releaseLock(lock);
}

/** Beside the directory, not in it: PGlite reads a directory with files in it as an existing database. */
export const lockFileOf = (dataDir: string): string => `${path.resolve(dataDir)}.lock`;

const releasedAtExit = new Set<string>();

function takeLock(lock: string, dataDir: string, holder: string, takingOver = false): void {
  mkdirSync(path.dirname(lock), { recursive: true });
  // Written whole under a name of its own, then linked into place: link fails if the lock exists, and another opener
  // never sees a lock without its owner.
  const draft = `${lock}.${process.pid}`;
  writeFileSync(draft, JSON.stringify({ pid: process.pid, holder } satisfies LockOwner));
  try {
    linkSync(draft, lock);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const owner = readOwner(lock);
    // Our own pid in a lock we do not hold is a previous life of this pid (a container restarted with the same
    // .data): stale, like a dead one.
    if (owner && owner.pid !== process.pid && isAlive(owner.pid))
      throw new EmbeddedDatabaseBusyError(
        `the embedded database in ${dataDir} is open in another process (${owner.holder}, pid ${owner.pid}): ` +
          `stop it first (Ctrl-C in its terminal), or set DATABASE_URL. If no such process runs, delete ${lock}`,
      );
    if (takingOver) throw error;
    rmSync(lock, { force: true });
    takeLock(lock, dataDir, holder, true);
    return;
  } finally {
    rmSync(draft, { force: true });
  }
  // A process that ends without closing (an error) must not leave its lock to the next one. Ctrl-C ends a tool without
  // 'exit': its lock is then taken over as stale, its pid being gone.
  if (!releasedAtExit.has(lock)) {
    releasedAtExit.add(lock);
    process.once('exit', () => releaseLock(lock));
  }
}

function releaseLock(lock: string): void {
  if (readOwner(lock)?.pid === process.pid) rmSync(lock, { force: true });
}

function readOwner(lock: string): LockOwner | undefined {
  try {
    const owner = JSON.parse(readFileSync(lock, 'utf8')) as Partial<LockOwner>;
    return typeof owner.pid === 'number' ? { pid: owner.pid, holder: String(owner.holder ?? 'unknown') } : undefined;
  } catch {
    return undefined; // unreadable: treated as stale (a lock is linked into place whole, never half-written)
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
