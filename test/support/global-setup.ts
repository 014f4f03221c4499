import { findPostgresBin, startThrowawayPostgres, type ThrowawayPostgres } from '../../db/throwaway-postgres';

declare global {
  // eslint-disable-next-line no-var
  var __THROWAWAY_PG__: ThrowawayPostgres | undefined;
}

/**
 * Decides which real database the suite uses, once: TEST_DATABASE_URL when given (CI starts one), else a throwaway
 * PostgreSQL server when its binaries are installed, else only the embedded PGlite (and says so). In CI a real
 * server is required: nothing may be skipped there.
 */
export default async function globalSetup(): Promise<void> {
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
