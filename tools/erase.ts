/**
 * `npm run erase -- --phone +919876543210 | --user-id IN.1648738043044942 [--reference TICKET]`: anonymises one
 * person's message rows on request (erase_recipient and erase_recipient_user_id, supabase/migrations/0017: the rows
 * of the phone and of the WhatsApp user ids seen beside it, or the other way round) in the database at DATABASE_URL, else the embedded one in DATA_DIR
 * (stop `npm start` first: the embedded database belongs to one process). Prints what it changed and what it cannot
 * reach. Exit code 2 on a usage error.
 */
import { normalizePhone } from '../lambdas/domain/phone';
import { normalizeUserId } from '../lambdas/domain/user-id';
import { parseCli, UsageError } from '../lambdas/shared/cli';
import { maskPhoneLike } from '../lambdas/shared/log-safe';
import { openToolDatabase } from './tool-database';

/** What an erasure here cannot reach, said every time so nobody mistakes it for complete. */
export const OUT_OF_REACH = [
  "Supabase's backups (they age out: daily backups are kept 7 days on Pro, point-in-time recovery as configured)",
  'messages sent to the person after the erasure: their statuses are stored as usual (the erased messages are remembered by a hash of their ids, so their later statuses are dropped)',
  'statuses of messages not yet stored when you erased (all still in SQS or its dead-letter queue, kept at most 14 days): redrive or purge, then erase again',
  'erasures made before migration 0032 (no hash of their messages was kept): erase again after a replay or a redrive',
  'CloudWatch logs (they hold no phone numbers: README, Security)',
  "the webhook archive (raw bodies, kept archiveExpirationDays; docs/archive.md); a replay of those days drops the erased messages' statuses",
  'columns of your own on broadcasts_messages (see docs/adoption.md): erase those yourself',
  'a phone or user id that never appeared on the same row as the one given (a person with two numbers): erase each',
];

const args = parseCli(
  {
    name: 'erase',
    usage: 'npm run erase -- --phone +919876543210 | --user-id IN.1648738043044942 [--reference TICKET]',
    options: { phone: { type: 'string' }, 'user-id': { type: 'string' }, reference: { type: 'string' } },
  },
  process.argv.slice(2),
  ({ values }) => {
    // erasure_log keeps the reference as given, for good: it must not hold what the erasure removes.
    if (values.reference !== undefined && maskPhoneLike(values.reference) !== values.reference) {
      throw new UsageError(
        '--reference is kept as written: give a ticket id without a phone number or user id in it (7 digits or more in a row count as one)',
      );
    }
    if (values.phone !== undefined && values['user-id'] !== undefined) {
      throw new UsageError('give either --phone or --user-id, not both: each also reaches the rows of the other');
    }
    if (values['user-id'] !== undefined) {
      const userId = normalizeUserId(values['user-id']);
      if (!userId) throw new UsageError('--user-id takes a WhatsApp user id (BSUID), e.g. IN.1648738043044942');
      return { call: 'erase_recipient_user_id', identifier: userId, reference: values.reference };
    }
    const phone = normalizePhone(values.phone);
    if (values.phone !== undefined && !phone) {
      throw new UsageError(
        `--phone ${values.phone} is not a phone number: give it with its country code, e.g. +919876543210`,
      );
    }
    if (!phone) {
      throw new UsageError(
        '--phone or --user-id is required: the number as the provider sends it (e.g. +919876543210), or the user id',
      );
    }
    return { call: 'erase_recipient', identifier: phone, reference: values.reference };
  },
);

async function main(): Promise<number> {
  const { executor, where } = await openToolDatabase();
  try {
    const { rows } = await executor.query<{ erased: string | number }>(`select public.${args.call}($1, $2) as erased`, [
      args.identifier,
      args.reference ?? null,
    ]);
    const erased = Number(rows[0]?.erased ?? 0);
    process.stdout.write(
      `${erased} message row(s) anonymised in ${where}; the erasure is recorded in erasure_log (without the number).\n`,
    );
    if (erased === 0) {
      process.stdout.write(
        'No row holds this number or id (any more). A number is found by its digits with the country code, however the table wrote it (+, spaces, dashes, 00); one written without its country code is not: look for it yourself.\n',
      );
    }
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
