/**
 * `npm run db:migrate`: applies supabase/migrations/*.sql in order to DATABASE_URL, each once (recorded in
 * public.delivery_tracker_migrations); re-running applies nothing. Without DATABASE_URL it migrates the local
 * embedded database in DATA_DIR (default .data/pglite).
 */
import { mkdirSync } from 'node:fs';
import { createPgliteExecutor } from '../lambdas/store/pglite-executor';
import { createPostgresExecutor } from '../lambdas/store/postgres-executor';
import { applyMigrations, readMigrations } from '../local/migrations';

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  const dataDir = process.env.DATA_DIR ?? '.data/pglite';
  if (!url) mkdirSync(dataDir, { recursive: true });
  const executor = url ? createPostgresExecutor(url, { max: 1 }) : await createPgliteExecutor(dataDir);
  try {
    const applied = await applyMigrations(executor);
    const total = (await readMigrations()).length;
    const where = url ? 'DATABASE_URL' : `the embedded database in ${dataDir}`;
    if (applied.length === 0) process.stdout.write(`${where}: up to date (${total} migrations)\n`);
    for (const version of applied) process.stdout.write(`${where}: applied ${version}\n`);
  } finally {
    await executor.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`db:migrate failed: ${(error as Error).message}\n`);
  process.exitCode = 1;
});
