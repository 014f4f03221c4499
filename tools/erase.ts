/**
 * `npm run erase -- --phone +919876543210 | --user-id IN.1648738043044942 [--reference TICKET]`: anonymises one
 * person's message rows on request (erase_recipient and erase_recipient_user_id, supabase/migrations/0017: the rows
 * of the phone and of the WhatsApp user ids seen beside it, or the other way round) in the database at DATABASE_URL, else the embedded one in DATA_DIR
 * (stop `npm start` first: the embedded database belongs to one process). Prints what it changed and what it cannot
 * reach. Exit code 2 on a usage error.
 */
import { normalizePhone } from '../lambdas/domain/phone';
import { normalizeUserId } from '../lambdas/domain/user-id';
import { parseCli, type parseCliArgs, UsageError } from '../lambdas/shared/cli';
import { holdsUserIdLike, maskPhoneLike } from '../lambdas/shared/log-safe';
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

export const ERASE_CLI = {
  name: 'erase',
  usage:
    'npm run erase -- --phone +919876543210 [--with-bare-digits] | --user-id IN.1648738043044942 [--reference TICKET]',
  options: {
    phone: { type: 'string' },
    'with-bare-digits': { type: 'boolean', default: false },
    'user-id': { type: 'string' },
    reference: { type: 'string' },
  },
} as const;

/** Digits in a row that make a reference hold the erased number: a number's last seven identify it. */
const SAME_DIGITS = 7;
/** `n` digits or more in a row, with a space, dot, dash or bracket allowed between two of them. */
const digitRun = (n: number) => new RegExp(`\\d(?:[\\s().-]?\\d){${n - 1},}`);

/**
 * Whether a reference would keep in erasure_log, for good, what the erasure removes or could identify the person:
 * a user id (however written: its ~16 digits are a run of 10 or more), a number written with its +, any run of 10
 * digits or more, a WhatsApp message id (it carries the number), digits of another script, or, erasing a phone, seven
 * of its digits in a row however spaced. A helpdesk's ticket number of 7 to 9 digits (Zendesk's) is taken when erasing
 * by phone; erasing by user id the number is not known here, so any seven digits in a row are taken for one.
 */
export function referenceHoldsIdentifier(reference: string, phone?: string): boolean {
  if (/(?![0-9])\p{Nd}/u.test(reference) || /wamid\./i.test(reference) || holdsUserIdLike(reference)) return true;
  if (new RegExp(`\\+\\s*${digitRun(SAME_DIGITS).source}`).test(reference)) return true;
  if (digitRun(phone === undefined ? SAME_DIGITS : 10).test(reference)) return true;
  if (phone === undefined) return false;
  const digits = reference.replace(/\D/g, '');
  const own = phone.replace(/\D/g, '');
  for (let i = 0; i + SAME_DIGITS <= own.length; i++) if (digits.includes(own.slice(i, i + SAME_DIGITS))) return true;
  return false;
}

const refuseReference = (reference: string | undefined, phone?: string) => {
  // erasure_log keeps the reference as given, for good: it must not hold what the erasure removes.
  if (reference !== undefined && referenceHoldsIdentifier(reference, phone)) {
    throw new UsageError(
      phone === undefined
        ? '--reference is kept as written: give a ticket id without a phone number, user id or wamid in it (7 digits or more in a row count as a number when erasing by user id)'
        : '--reference is kept as written: give a ticket id without the number, a user id or a wamid in it (7 of its digits in a row, 10 digits or more in a row, or a number with + count as one)',
    );
  }
};

/** What to erase, from the parsed command line; a UsageError says what is wrong with it. Pure: tested in-process. */
export function eraseRequest({ values }: ReturnType<typeof parseCliArgs<typeof ERASE_CLI.options>>) {
  if (values.phone !== undefined && values['user-id'] !== undefined) {
    throw new UsageError('give either --phone or --user-id, not both: each also reaches the rows of the other');
  }
  if (values['user-id'] !== undefined) {
    const userId = normalizeUserId(values['user-id']);
    if (!userId) throw new UsageError('--user-id takes a WhatsApp user id (BSUID), e.g. IN.1648738043044942');
    refuseReference(values.reference);
    return { call: 'erase_recipient_user_id' as const, identifier: userId, reference: values.reference };
  }
  // Digits without + or 00, as Meta's recipient_id writes a number (919876543210), are taken when there are at least
  // 11 and no leading 0; fewer are likely a number without its country code (98765 43299, read as +98...: another
  // person's, and an erasure cannot be undone), so they are refused rather than guessed.
  const given = values.phone ?? '';
  const bare = /^[\s(]*\d/.test(given) && !/^\s*00/.test(given);
  if (bare && (given.replace(/\D/g, '').length < 11 || /^[\s(]*0/.test(given))) {
    throw new UsageError(
      `--phone ${maskPhoneLike(given)} has neither + nor 00 and may lack its country code: give the number with + and its country code, e.g. +919876543210 (an erasure cannot be undone)`,
    );
  }
  // 00 is the international prefix written out (0091 98765 43210): the number is +91...
  const phone = normalizePhone(values.phone?.trim().replace(/^00/, '+'));
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
  refuseReference(values.reference, phone);
  return {
    call: 'erase_recipient' as const,
    identifier: phone,
    reference: values.reference,
    withBareDigits: values['with-bare-digits'],
  };
}

async function main(args: ReturnType<typeof eraseRequest>): Promise<number> {
  const { executor, where } = await openToolDatabase();
  try {
    const byPhone = args.call === 'erase_recipient';
    const { rows } = await executor.query<{ erased: string | number }>(
      byPhone
        ? 'select public.erase_recipient($1, $2, $3) as erased'
        : 'select public.erase_recipient_user_id($1, $2) as erased',
      byPhone
        ? [args.identifier, args.reference ?? null, args.withBareDigits]
        : [args.identifier, args.reference ?? null],
    );
    const erased = Number(rows[0]?.erased ?? 0);
    process.stdout.write(
      `${erased} message row(s) anonymised in ${where}; the erasure is recorded in erasure_log (without the number).\n`,
    );
    // Left to the operator: the rows holding the number's digits with neither + nor 00 (migration 0035).
    const bare = byPhone
      ? Number(
          (
            await executor.query<{ n: string | number }>(
              `select count(*) as n from public.broadcasts_messages
                where phone_number in (select s.spelling from public.broadcasts_phone_spellings($1) s where s.bare)`,
              [args.identifier],
            )
          ).rows[0]?.n ?? 0,
        )
      : 0;
    if (bare > 0) {
      process.stdout.write(
        `${bare} more row(s) hold these digits with neither + nor 00 (${maskPhoneLike(args.identifier.slice(1))}), as Meta's recipient_id and the original guide write a number, but also as a number without its country code looks (another person's): not erased. If they are this person's, run again with --with-bare-digits.\n`,
      );
    } else if (erased === 0) {
      process.stdout.write(
        'No row holds this number or id (any more). A number is found by its digits with the country code, however the table wrote it (+, 00, spaces, dashes); one written without its country code is not: look for it yourself.\n',
      );
    }
    process.stdout.write(`Not reached by this command:\n${OUT_OF_REACH.map((line) => `  - ${line}`).join('\n')}\n`);
    return 0;
  } finally {
    await executor.close();
  }
}

if (require.main === module) {
  main(parseCli(ERASE_CLI, process.argv.slice(2), eraseRequest)).then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      process.stderr.write(`erase failed: ${(error as Error).message}\n`);
      process.exitCode = 1;
    },
  );
}
