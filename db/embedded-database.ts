import { createHash, randomUUID } from 'node:crypto';
import { closeSync, linkSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createPgliteExecutor, type PgliteExecutor, type PgliteOptions } from '../lambdas/store/pglite-executor';

/** The embedded database is open in another process: the message names it and what to do. */
export class EmbeddedDatabaseBusyError extends Error {
  override name = 'EmbeddedDatabaseBusyError';
}

interface LockOwner {
  pid: number;
  holder: string;
  /** Drawn by each opener: tells its lock from any other, also from one of the same pid (a restarted container). */
  nonce?: string;
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
  // The npm script's name when npm started it (rollups:rebuild runs tools/rollups-rebuild.ts), else the file's.
  holder = `npm run ${process.env.npm_lifecycle_event ?? path.basename(process.argv[1] ?? 'tool', '.ts')}`,
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

/** The nonce of each lock this process holds (a lock with this pid and another nonce is from an earlier life). */
const heldHere = new Map<string, string>();
const releasedAtExit = new Set<string>();

/** Tries before giving up: each lost race (a lock released or taken over meanwhile) costs one. */
const LOCK_ATTEMPTS = 5;

function takeLock(lock: string, dataDir: string, holder: string): void {
  mkdirSync(path.dirname(lock), { recursive: true });
  // Written whole under a name of its own, then linked into place: link fails if the lock exists, and another opener
  // never sees a lock without its owner.
  const nonce = randomUUID();
  const draft = `${lock}.${process.pid}.${nonce}`;
  writeFileSync(draft, JSON.stringify({ pid: process.pid, holder, nonce } satisfies LockOwner));
  let claimedElsewhere: string | undefined;
  try {
    for (let attempt = 1; attempt <= LOCK_ATTEMPTS; attempt++) {
      try {
        linkSync(draft, lock);
        heldHere.set(lock, nonce);
        releaseAtExit(lock);
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const found = readLock(lock);
      if (!found) continue; // released between our link and our look
      const { owner, content } = found;
      if (owner && isHeldBy(owner, lock))
        throw new EmbeddedDatabaseBusyError(
          `the embedded database in ${dataDir} is open in another process (${owner.holder}, pid ${owner.pid}): ` +
            `stop it first (Ctrl-C in its terminal), or set DATABASE_URL. If no such process runs, delete ${lock}`,
        );
      if (!takeOverStaleLock(lock, content)) claimedElsewhere = takeOverClaimOf(lock, content);
    }
  } finally {
    rmSync(draft, { force: true });
  }
  throw new Error(
    `could not take ${lock}: other openers kept taking it over` +
      (claimedElsewhere ? `. If no other opener runs, delete ${claimedElsewhere} (left by one that stopped)` : ''),
  );
}

/**
 * Whether the lock's owner is alive and holds it: another live process, or this process holding that very lock (a
 * second open here). This pid with a nonce it does not hold is a previous life of the pid (a container restarted
 * with the same .data): stale, like a dead owner.
 */
function isHeldBy(owner: LockOwner, lock: string): boolean {
  if (owner.pid === process.pid) return owner.nonce !== undefined && heldHere.get(lock) === owner.nonce;
  return isAlive(owner.pid);
}

/**
 * Removes the lock judged stale (its whole `staleContent`) so that the next link can take its place; true if it did.
 * Removing it by name alone would race: two openers that judged the same dead owner's lock could each remove it, the
 * second removing the lock the first had just linked. So an opener first claims the takeover of that one lock, by
 * creating `<lock>.takeover-<hash of its content>` exclusively (one opener wins), then removes the lock only if it
 * still holds that content: a lock linked since has another nonce. The lock is never moved, so a live lock is never
 * missing from its name. A claim left by an opener that stopped halfway makes the others give up, naming it.
 */
export function takeOverStaleLock(lock: string, staleContent: string): boolean {
  const claim = takeOverClaimOf(lock, staleContent);
  try {
    closeSync(openSync(claim, 'wx'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false; // another opener is taking it over
    throw error;
  }
  try {
    if (readLock(lock)?.content !== staleContent) return false;
    rmSync(lock, { force: true });
    return true;
  } finally {
    rmSync(claim, { force: true });
  }
}

/** The file an opener creates to claim the takeover of the lock holding `staleContent` (takeOverStaleLock). */
export const takeOverClaimOf = (lock: string, staleContent: string) =>
  `${lock}.takeover-${createHash('sha256').update(staleContent).digest('hex').slice(0, 16)}`;

function releaseAtExit(lock: string): void {
  // A process that ends without closing (an error) must not leave its lock to the next one. Ctrl-C ends a tool without
  // 'exit': its lock is then taken over as stale, its pid being gone.
  if (releasedAtExit.has(lock)) return;
  releasedAtExit.add(lock);
  process.once('exit', () => releaseLock(lock));
}

/** Removes the lock if it is the one this process took (its nonce): never another holder's. */
function releaseLock(lock: string): void {
  const nonce = heldHere.get(lock);
  if (nonce === undefined) return;
  heldHere.delete(lock);
  if (readLock(lock)?.owner?.nonce === nonce) rmSync(lock, { force: true });
}

/** The lock's content and owner; undefined when there is no lock; `owner` undefined when unreadable. */
function readLock(lock: string): { content: string; owner?: LockOwner } | undefined {
  let content: string;
  try {
    content = readFileSync(lock, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const parsed = JSON.parse(content) as Partial<LockOwner>;
    if (typeof parsed.pid !== 'number') return { content };
    const owner = { pid: parsed.pid, holder: String(parsed.holder ?? 'unknown') };
    return { content, owner: typeof parsed.nonce === 'string' ? { ...owner, nonce: parsed.nonce } : owner };
  } catch {
    return { content }; // unreadable: treated as stale (a lock is linked into place whole, never half-written)
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
