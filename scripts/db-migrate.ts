/**
 * `npm run db:migrate [-- --dry-run]`: applies supabase/migrations/*.sql in order to DATABASE_URL, each once (recorded
 * in public.delivery_tracker_migrations); re-running applies nothing. Without DATABASE_URL it migrates the local
 * embedded database in DATA_DIR (default .data/pglite). `--dry-run` (DATABASE_URL only) runs the pending migrations in
 * a transaction that is rolled back, and prints what they would do (e.g. adopting the original guide's table).
 */
import { mkdirSync } from 'node:fs';
import { openEmbeddedDatabase } from '../db/embedded-database';
import { applyMigrations, dryRunMigrations, isReport, readMigrations } from '../db/migrations';
import { parseCli } from '../lambdas/shared/cli';
import { createPostgresExecutor } from '../lambdas/store/postgres-executor';

const { values } = parseCli({
  name: 'db:migrate',
  usage: 'npm run db:migrate [-- --dry-run]',
  options: { 'dry-run': { type: 'boolean', default: false } },
});

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (values['dry-run']) {
    if (!url) throw new Error('--dry-run needs DATABASE_URL (a PostgreSQL database)');
    const plan = await dryRunMigrations(url);
    if (plan.pending.length === 0) process.stdout.write('DATABASE_URL: up to date, nothing would change\n');
    for (const version of plan.pending) process.stdout.write(`would apply ${version}\n`);
    for (const notice of plan.notices) process.stdout.write(`  ${notice}\n`);
    process.stdout.write('dry run: everything was rolled back, nothing changed\n');
    return;
  }
  const dataDir = process.env.DATA_DIR ?? '.data/pglite';
  if (!url) mkdirSync(dataDir, { recursive: true });
  const notices: string[] = [];
  const executor = url
    ? createPostgresExecutor(url, { max: 1, unreachableSetting: 'DATABASE_URL' }, (notice) => notices.push(notice))
    : await openEmbeddedDatabase(dataDir, 'npm run db:migrate');
  try {
    const applied = await applyMigrations(executor);
    const total = (await readMigrations()).length;
    const where = url ? 'DATABASE_URL' : `the embedded database in ${dataDir}`;
    if (applied.length === 0) process.stdout.write(`${where}: up to date (${total} migrations)\n`);
    for (const version of applied) process.stdout.write(`${where}: applied ${version}\n`);
    // What the migrations reported, e.g. what adopting the original guide's table imported (docs/adoption.md).
    for (const notice of notices.filter(isReport)) process.stdout.write(`  ${notice}\n`);
  } finally {
    await executor.close();
  }
}

main().catch((error: unknown) => {
  // PostgreSQL's DETAIL and HINT name what the message only refers to (e.g. the view a drop needs to take along).
  const { message, detail, hint } = error as { message: string; detail?: string; hint?: string };
  const more = [detail && `DETAIL: ${detail}`, hint && `HINT: ${hint}`].filter(Boolean).map((line) => `  ${line}\n`);
  process.stderr.write(`db:migrate failed: ${message}\n${more.join('')}`);
  process.exitCode = 1;
});
