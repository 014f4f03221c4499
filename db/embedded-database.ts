import {
  closeSync,
  fstatSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
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

/** Tries before giving up: each lost race (a lock released or taken over meanwhile) costs one. */
const LOCK_ATTEMPTS = 5;

function takeLock(lock: string, dataDir: string, holder: string): void {
  mkdirSync(path.dirname(lock), { recursive: true });
  // Written whole under a name of its own, then linked into place: link fails if the lock exists, and another opener
  // never sees a lock without its owner.
  const draft = `${lock}.${process.pid}`;
  writeFileSync(draft, JSON.stringify({ pid: process.pid, holder } satisfies LockOwner));
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        linkSync(draft, lock);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const found = readLock(lock);
      if (!found) continue; // released between our link and our look
      // Our own pid in a lock we do not hold is a previous life of this pid (a container restarted with the same
      // .data): stale, like a dead one.
      const { owner } = found;
      if (owner && owner.pid !== process.pid && isAlive(owner.pid))
        throw new EmbeddedDatabaseBusyError(
          `the embedded database in ${dataDir} is open in another process (${owner.holder}, pid ${owner.pid}): ` +
            `stop it first (Ctrl-C in its terminal), or set DATABASE_URL. If no such process runs, delete ${lock}`,
        );
      if (attempt === LOCK_ATTEMPTS) throw new Error(`could not take ${lock}: other openers kept changing it`);
      takeOverStaleLock(lock, found.inode);
    }
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

/**
 * Clears the lock judged stale (its file `staleInode`) so that the next link can take its place; true if it did.
 * Removing it by name would race: two openers that both judged the same dead owner's lock could each remove it, the
 * second removing the lock the first had just linked, and both would open the database. The lock is therefore
 * moved aside first (one rename wins) and removed only if it is the very file judged stale; one linked by another
 * opener since goes back, and the next attempt finds its owner alive.
 */
export function takeOverStaleLock(lock: string, staleInode: number): boolean {
  const aside = `${lock}.stale.${process.pid}`;
  try {
    renameSync(lock, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false; // another opener moved it first
    throw error;
  }
  const judged = statSync(aside).ino === staleInode;
  if (!judged) {
    try {
      linkSync(aside, lock);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  rmSync(aside, { force: true });
  return judged;
}

function releaseLock(lock: string): void {
  if (readLock(lock)?.owner?.pid === process.pid) rmSync(lock, { force: true });
}

/** The lock's file (its inode) and owner; undefined when there is no lock; `owner` undefined when unreadable. */
function readLock(lock: string): { inode: number; owner?: LockOwner } | undefined {
  let fd: number;
  try {
    fd = openSync(lock, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const inode = fstatSync(fd).ino;
    try {
      const parsed = JSON.parse(readFileSync(fd, 'utf8')) as Partial<LockOwner>;
      const owner =
        typeof parsed.pid === 'number' ? { pid: parsed.pid, holder: String(parsed.holder ?? 'unknown') } : undefined;
      return { inode, owner };
    } catch {
      return { inode }; // unreadable: treated as stale (a lock is linked into place whole, never half-written)
    }
  } finally {
    closeSync(fd);
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
