import { type ChildProcess, spawn } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  EmbeddedDatabaseBusyError,
  holdEmbeddedDatabaseLock,
  lockFileOf,
  openEmbeddedDatabase,
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
  const owner = () => JSON.parse(readFileSync(lockFileOf(dir), 'utf8'));

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
    holdEmbeddedDatabaseLock(dir, 'npm start'); // never released, as by a crash
    const release = holdEmbeddedDatabaseLock(dir, 'npm run erase');
    expect(owner()).toEqual({ pid: process.pid, holder: 'npm run erase' });
    release();
  });

  it('takes over a lock it cannot read', () => {
    writeFileSync(lockFileOf(dir), 'not json');
    const release = holdEmbeddedDatabaseLock(dir, 'npm start');
    expect(owner()).toEqual({ pid: process.pid, holder: 'npm start' });
    release();
  });

  describe('two openers taking over the same stale lock at once', () => {
    const DEAD = JSON.stringify({ pid: 2 ** 22 + 1, holder: 'npm start' }); // above Linux's pid_max: never alive

    it('clears the stale lock it judged, and only that file', () => {
      writeFileSync(lockFileOf(dir), DEAD);
      expect(takeOverStaleLock(lockFileOf(dir), statSync(lockFileOf(dir)).ino)).toBe(true);
      expect(existsSync(lockFileOf(dir))).toBe(false);
      expect(readdirSync(path.dirname(dir))).toEqual([]); // nothing left aside
    });

    it('puts back a lock another opener linked after it judged the old one stale, which then refuses it', () => {
      other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
      const lock = lockFileOf(dir);
      writeFileSync(lock, DEAD);
      const judged = statSync(lock).ino;
      // Meanwhile the other opener took it over: its own lock, a new file, is in place.
      writeFileSync(`${lock}.other`, JSON.stringify({ pid: other.pid, holder: 'npm start' }));
      renameSync(`${lock}.other`, lock);

      expect(takeOverStaleLock(lock, judged)).toBe(false);
      expect(owner()).toEqual({ pid: other.pid, holder: 'npm start' });
      expect(() => holdEmbeddedDatabaseLock(dir, 'npm run erase')).toThrow(EmbeddedDatabaseBusyError);
      expect(owner()).toEqual({ pid: other.pid, holder: 'npm start' });
    });
  });
});
