import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EmbeddedDatabaseBusyError, lockFileOf, openEmbeddedDatabase } from '../../db/embedded-database';
import { pgliteTemplate } from '../support/databases';

// A fresh data directory from the migrated template (0.6 s), not initdb (seconds, and a minute under CI's load).
const fromTemplate = async () => ({ from: await pgliteTemplate() });

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

  it('holds a lock naming its holder while open, and lets it go on close', async () => {
    const db = await openEmbeddedDatabase(dir, 'npm start', await fromTemplate());
    try {
      expect(JSON.parse(readFileSync(lockFileOf(dir), 'utf8'))).toEqual({ pid: process.pid, holder: 'npm start' });
      expect((await db.query<{ one: number }>('select 1 as one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await db.close();
    }
    expect(existsSync(lockFileOf(dir))).toBe(false);
    // A lock left by this pid in an earlier life (a container restarted with the same .data) is stale.
    writeFileSync(lockFileOf(dir), JSON.stringify({ pid: process.pid, holder: 'npm start' }));
    const again = await openEmbeddedDatabase(dir, 'npm run erase');
    await again.close();
  });

  it('refuses while another live process holds it, and takes over the lock of one that is gone', async () => {
    other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    const pid = other.pid!;
    mkdirSync(path.dirname(dir), { recursive: true });
    writeFileSync(lockFileOf(dir), JSON.stringify({ pid, holder: 'npm start' }));
    const refused = openEmbeddedDatabase(dir, 'npm run erase');
    await expect(refused).rejects.toThrow(EmbeddedDatabaseBusyError);
    await expect(refused).rejects.toThrow(
      `the embedded database in ${dir} is open in another process (npm start, pid ${pid}): stop it first`,
    );

    const exited = new Promise((resolve) => other!.once('exit', resolve));
    other.kill('SIGKILL');
    await exited;
    const db = await openEmbeddedDatabase(dir, 'npm run erase', await fromTemplate());
    try {
      expect(JSON.parse(readFileSync(lockFileOf(dir), 'utf8'))).toMatchObject({ holder: 'npm run erase' });
    } finally {
      await db.close();
    }
  });
});
