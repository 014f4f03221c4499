import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  EmbeddedDatabaseBusyError,
  holdEmbeddedDatabaseLock,
  lockFileOf,
  openEmbeddedDatabase,
  takeOverClaimOf,
  takeOverStaleLock,
} from '../../db/embedded-database';
import { pgliteTemplate } from '../support/databases';

describe('the embedded database, one process at a time', () => {
  let dir: string;
  let other: ChildProcess | undefined;
  beforeEach(() => {
    dir = path.join(mkdtempSync(path.join(tmpdir(), 'embedded-db-')), 'pglite');
  });
  afterEach(() => {
    other?.kill('SIGKILL');
    other = undefined;
    rmSync(path.dirname(dir), { recursive: true, force: true });
  });
  /** Who holds the lock (its nonce left out: drawn afresh by each opener). */
  const owner = () => {
    const { pid, holder } = JSON.parse(readFileSync(lockFileOf(dir), 'utf8'));
    return { pid, holder };
  };

  it('holds the lock while the database is open, naming its holder, and lets it go on close', async () => {
    // From the migrated template (0.6 s), not initdb (seconds, and over a minute under CI's load).
    const db = await openEmbeddedDatabase(dir, 'npm start', { from: await pgliteTemplate() });
    try {
      expect(owner()).toEqual({ pid: process.pid, holder: 'npm start' });
      expect((await db.query<{ one: number }>('select 1 as one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await db.close();
    }
    expect(existsSync(lockFileOf(dir))).toBe(false);
  });

  it('refuses while another live process holds it, naming it, and takes over the lock of one that is gone', async () => {
    other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    const pid = other.pid!;
    const release = holdEmbeddedDatabaseLock(dir, 'npm start');
    release();
    writeFileSync(lockFileOf(dir), JSON.stringify({ pid, holder: 'npm start' }));
    const refused = () => holdEmbeddedDatabaseLock(dir, 'npm run erase');
    expect(refused).toThrow(EmbeddedDatabaseBusyError);
    expect(refused).toThrow(
      `the embedded database in ${dir} is open in another process (npm start, pid ${pid}): stop it first`,
    );
    expect(owner()).toEqual({ pid, holder: 'npm start' });

    const exited = new Promise((resolve) => other!.once('exit', resolve));
    other.kill('SIGKILL');
    await exited;
    const releaseErase = holdEmbeddedDatabaseLock(dir, 'npm run erase');
    expect(owner()).toEqual({ pid: process.pid, holder: 'npm run erase' });
    releaseErase();
    expect(existsSync(lockFileOf(dir))).toBe(false);
  });

  it('takes over a lock left by this pid in an earlier life (a container restarted with the same .data)', () => {
    writeFileSync(lockFileOf(dir), JSON.stringify({ pid: process.pid, holder: 'npm start', nonce: 'earlier-life' }));
    const release = holdEmbeddedDatabaseLock(dir, 'npm run erase');
    expect(owner()).toEqual({ pid: process.pid, holder: 'npm run erase' });
    release();
  });

  it('refuses a second open in the same process, and its close leaves the first holder its lock', () => {
    const release = holdEmbeddedDatabaseLock(dir, 'npm start');
    expect(() => holdEmbeddedDatabaseLock(dir, 'npm run erase')).toThrow(EmbeddedDatabaseBusyError);
    expect(owner()).toEqual({ pid: process.pid, holder: 'npm start' });
    release();
    expect(existsSync(lockFileOf(dir))).toBe(false);
  });

  it('takes over a lock it cannot read', () => {
    writeFileSync(lockFileOf(dir), 'not json');
    const release = holdEmbeddedDatabaseLock(dir, 'npm start');
    expect(owner()).toEqual({ pid: process.pid, holder: 'npm start' });
    release();
  });

  describe('two openers taking over the same stale lock at once', () => {
    const DEAD = JSON.stringify({ pid: 2 ** 22 + 1, holder: 'npm start' }); // above Linux's pid_max: never alive

    it('removes the stale lock it judged, and leaves nothing beside it', () => {
      writeFileSync(lockFileOf(dir), DEAD);
      expect(takeOverStaleLock(lockFileOf(dir), DEAD)).toBe(true);
      expect(existsSync(lockFileOf(dir))).toBe(false);
      expect(readdirSync(path.dirname(dir))).toEqual([]); // no claim left
    });

    it('leaves alone a lock another opener linked after it judged the old one stale, which then refuses it', () => {
      other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
      const lock = lockFileOf(dir);
      // Meanwhile the other opener took the stale lock over: its own lock is in place.
      writeFileSync(lock, JSON.stringify({ pid: other.pid, holder: 'npm start', nonce: 'n-other' }));

      expect(takeOverStaleLock(lock, DEAD)).toBe(false);
      expect(owner()).toEqual({ pid: other.pid, holder: 'npm start' });
      expect(() => holdEmbeddedDatabaseLock(dir, 'npm run erase')).toThrow(EmbeddedDatabaseBusyError);
      expect(owner()).toEqual({ pid: other.pid, holder: 'npm start' });
    });

    it('lets one opener take over a stale lock at a time: another one claiming it makes it step back', () => {
      const lock = lockFileOf(dir);
      writeFileSync(lock, DEAD);
      // Another opener is halfway through taking it over (its claim made, the lock not yet removed).
      const claimed = takeOverClaimOf(lock, DEAD);
      writeFileSync(claimed, '');
      expect(takeOverStaleLock(lock, DEAD)).toBe(false);
      expect(readFileSync(lock, 'utf8')).toBe(DEAD);
      // One that stopped there for good is named, after a few tries, rather than waited on for ever.
      expect(() => holdEmbeddedDatabaseLock(dir, 'npm start')).toThrow(
        `could not take ${lock}: other openers kept taking it over. If no other opener runs, delete ${claimed}`,
      );
      rmSync(claimed);
      const release = holdEmbeddedDatabaseLock(dir, 'npm start');
      expect(owner()).toEqual({ pid: process.pid, holder: 'npm start' });
      release();
    });
  });
});
