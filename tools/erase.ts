/**
 * `npm run erase -- --phone +919876543210 [--reference TICKET]`: anonymises one person's message rows on request
 * (erase_recipient, supabase/migrations/0011) in the database at DATABASE_URL, else the embedded one in DATA_DIR
 * (stop `npm start` first: the embedded database belongs to one process). Prints what it changed and what it cannot
 * reach. Exit code 2 on a usage error.
 */
import { normalizePhone } from '../lambdas/domain/phone';
import { parseCli, UsageError } from '../lambdas/shared/cli';
import { createPgliteExecutor } from '../lambdas/store/pglite-executor';
import { createPostgresExecutor } from '../lambdas/store/postgres-executor';

/** What an erasure here cannot reach, said every time so nobody mistakes it for complete. */
export const OUT_OF_REACH = [
  "Supabase's backups (they age out: daily backups are kept 7 days on Pro, point-in-time recovery as configured)",
  'statuses still queued in SQS or its dead-letter queue (kept at most 14 days; redrive or purge, then erase again)',
  'CloudWatch logs (they hold no phone numbers: README, Security)',
  'the webhook archive (raw bodies, kept archiveExpirationDays; docs/archive.md): a replay of those days brings the rows back, so erase again after one',
  'columns of your own on broadcasts_messages (see docs/adoption.md): erase those yourself',
];

const args = parseCli(
  {
    name: 'erase',
    usage: 'npm run erase -- --phone +919876543210 [--reference TICKET]',
    options: { phone: { type: 'string' }, reference: { type: 'string' } },
  },
  process.argv.slice(2),
  ({ values }) => {
    const phone = normalizePhone(values.phone);
    if (!phone) throw new UsageError('--phone is required: the number as the provider sends it, e.g. +919876543210');
    return { phone, reference: values.reference };
  },
);

async function main(): Promise<number> {
  const url = process.env.DATABASE_URL;
  const executor = url
    ? createPostgresExecutor(url, { max: 1 })
    : await createPgliteExecutor(process.env.DATA_DIR ?? '.data/pglite');
  try {
    const { rows } = await executor.query<{ erased: string | number }>(
      'select public.erase_recipient($1, $2) as erased',
      [args.phone, args.reference ?? null],
    );
    const erased = Number(rows[0]?.erased ?? 0);
    process.stdout.write(
      `${erased} message row(s) anonymised in ${url ? 'DATABASE_URL' : 'the embedded database'}; the erasure is recorded in erasure_log (without the number).\n`,
    );
    process.stdout.write(`Not reached by this command:\n${OUT_OF_REACH.map((line) => `  - ${line}`).join('\n')}\n`);
    return 0;
  } finally {
    await executor.close();
  }
}

main().then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    process.stderr.write(`erase failed: ${(error as Error).message}\n`);
    process.exitCode = 1;
  },
);
