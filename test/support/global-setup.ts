import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createPgliteTemplate, createPostgresTemplate } from '../../db/scratch-database';
import { findPostgresBin, startThrowawayPostgres, type ThrowawayPostgres } from '../../db/throwaway-postgres';
import { prepareSupabaseRoles } from './supabase-roles';

declare global {
  // eslint-disable-next-line no-var
  var __THROWAWAY_PG__: ThrowawayPostgres | undefined;
  // eslint-disable-next-line no-var
  var __PGLITE_TEMPLATE_DIR__: string | undefined;
  // eslint-disable-next-line no-var
  var __DROP_PG_TEMPLATE__: (() => Promise<void>) | undefined;
}

/**
 * Decides which real database the suite uses, once: TEST_DATABASE_URL when given (CI starts one), else a throwaway
 * PostgreSQL server when its binaries are installed, else only the embedded PGlite (and says so). In CI a real
 * server is required: nothing may be skipped there. Then makes the migrated templates the suites' databases copy.
 */
export default async function globalSetup(): Promise<void> {
  await choosePostgres();
  await makePgliteTemplate();
  const url = process.env.TEST_DATABASE_URL;
  if (url) {
    const template = await createPostgresTemplate(url, { beforeMigrations: prepareSupabaseRoles });
    globalThis.__DROP_PG_TEMPLATE__ = template.drop;
    process.env.PG_TEMPLATE_DATABASE = template.name;
  }
}

async function choosePostgres(): Promise<void> {
  if (process.env.TEST_DATABASE_URL) {
    process.stdout.write(`\n[db] tests use PostgreSQL at TEST_DATABASE_URL and the embedded PGlite\n`);
    return;
  }
  if (process.env.TEST_DB === 'pglite' && !process.env.CI) {
    process.stdout.write('\n[db] TEST_DB=pglite: tests use the embedded PGlite only; concurrency tests are skipped\n');
    return;
  }
  if (findPostgresBin()) {
    const pg = await startThrowawayPostgres();
    globalThis.__THROWAWAY_PG__ = pg;
    process.env.TEST_DATABASE_URL = pg.url;
    process.stdout.write(`\n[db] tests use a throwaway PostgreSQL server (${pg.url}) and the embedded PGlite\n`);
    return;
  }
  if (process.env.CI) throw new Error('CI needs a real PostgreSQL server: set TEST_DATABASE_URL or install postgresql');
  process.stdout.write(
    '\n[db] no PostgreSQL server found: tests use the embedded PGlite only; concurrency tests are skipped (apt-get install postgresql to run them)\n',
  );
}

/**
 * One migrated PGlite database (Supabase's roles, then every migration) dumped to a file each suite's PGlite starts
 * from (test/support/databases.ts): creating and migrating one takes about 4 s, loading the dump about 0.6 s, and the
 * suite creates dozens. Made afresh each run, so it always has the migrations of the working tree; the PostgreSQL
 * template likewise.
 */
async function makePgliteTemplate(): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'pglite-template-'));
  const file = path.join(dir, 'migrated.tar');
  const dump = await createPgliteTemplate({ beforeMigrations: prepareSupabaseRoles });
  await writeFile(file, Buffer.from(await dump.arrayBuffer()));
  globalThis.__PGLITE_TEMPLATE_DIR__ = dir;
  process.env.PGLITE_TEMPLATE = file;
}
