/**
 * `npm run replay -- --from 2026-11-01 --to 2026-11-02 [--source local|s3://bucket/webhooks|DIR] [--dry-run]`:
 * re-applies the archived webhooks received in [from, to) with today's normalization (docs/archive.md), into the
 * database at DATABASE_URL, else the embedded one in DATA_DIR (stop `npm start` first: the embedded database
 * belongs to one process). A date alone is that UTC day (`--to` includes it); a time names its zone (parsePeriodBound).
 * Prints progress on stderr and a summary on stdout. Exit code 2 on a usage error, 1 when something was refused.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { DAY_MS } from '../lambdas/domain/timestamps';
import { parseCli, periodOptions, UsageError } from '../lambdas/shared/cli';
import { SqlTrackerStore } from '../lambdas/store/sql-tracker-store';
import { archiveDataRoot, DEFAULT_LOCAL_ARCHIVE_DIR } from '../local/file-webhook-archive';
import { formatSummary, localArchiveSource, replayArchive, s3ArchiveSource } from './replay-archive';
import { openToolDatabase } from './tool-database';

const args = parseCli(
  {
    name: 'replay',
    usage:
      'npm run replay -- --from 2026-11-01 --to 2026-11-02 [--source local|s3://bucket/webhooks|DIR] [--dry-run] [--batch-size 500]',
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      source: { type: 'string', default: 'local' },
      'dry-run': { type: 'boolean', default: false },
      'batch-size': { type: 'string', default: '500' },
    },
  },
  process.argv.slice(2),
  ({ values }) => {
    for (const flag of ['from', 'to'] as const)
      if (values[flag] === undefined)
        throw new UsageError(`--${flag} is required: an ISO date or time such as 2026-11-01 or 2026-11-01T10:00Z`);
    const period = periodOptions(values);
    const fromMs = period.from!.getTime();
    const toMs = period.to!.getTime();
    const batchSize = Number(values['batch-size']);
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000)
      throw new UsageError('--batch-size expects a whole number from 1 to 10000');
    return { fromMs, toMs, source: values.source, dryRun: values['dry-run'], batchSize };
  },
);

const positive = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive whole number`);
  return value;
};

async function main(): Promise<number> {
  const source = args.source.startsWith('s3://')
    ? s3ArchiveSource(new S3Client({}), args.source)
    : localArchiveSource(
        args.source === 'local' ? archiveDataRoot(process.env.ARCHIVE_DIR ?? DEFAULT_LOCAL_ARCHIVE_DIR) : args.source,
      );
  const database = args.dryRun ? undefined : await openToolDatabase();
  const executor = database?.executor;
  const target = database?.where ?? 'nothing (dry run)';
  process.stderr.write(
    `replaying webhooks received ${new Date(args.fromMs).toISOString()} .. ${new Date(args.toMs).toISOString()} from ${source.describe} into ${target}\n`,
  );
  try {
    const summary = await replayArchive({
      source,
      fromMs: args.fromMs,
      toMs: args.toMs,
      store: executor ? new SqlTrackerStore(executor) : undefined,
      // The ingest's own window, measured from each webhook's receipt: the same statuses pass as at the time.
      window: {
        maxPastMs: positive('MAX_STATUS_AGE_DAYS', 30) * DAY_MS,
        maxFutureMs: positive('MAX_STATUS_AHEAD_SECONDS', 300) * 1000,
      },
      maxStatusesPerWebhook: positive('MAX_STATUSES_PER_WEBHOOK', 5_000),
      batchSize: args.batchSize,
      onProgress: (s) => process.stderr.write(`  ${s.files} files, ${s.bodies} bodies, ${s.statuses} statuses\n`),
    });
    process.stdout.write(`${formatSummary(summary, args.dryRun)}\n`);
    const refused =
      Object.keys(summary.statusesUnstorable).length +
      Object.keys(summary.accountEventsUnstorable).length +
      Object.keys(summary.unreadableLines).length;
    return refused > 0 || summary.incomplete > 0 ? 1 : 0;
  } finally {
    await executor?.close();
  }
}

main().then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    process.stderr.write(`replay failed: ${(error as Error).message}\n`);
    process.exitCode = 1;
  },
);
