/**
 * `npm run dlq:redrive -- --dlq <url> --queue <url> [--dry-run] [--rate N]`
 * Queue URLs are the stack outputs DeadLetterQueueUrl and QueueUrl (also read from DLQ_URL and QUEUE_URL).
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { parseCli, UsageError } from '../lambdas/shared/cli';
import { redriveDeadLetters } from './dlq-redrive';

const args = parseCli(
  {
    name: 'dlq:redrive',
    usage:
      'npm run dlq:redrive -- --dlq <DeadLetterQueueUrl> --queue <QueueUrl> [--dry-run] [--rate <messages per second>]',
    options: {
      dlq: { type: 'string' },
      queue: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      rate: { type: 'string' },
    },
  },
  process.argv.slice(2),
  ({ values }) => {
    const deadLetterQueueUrl = values.dlq ?? process.env.DLQ_URL;
    const queueUrl = values.queue ?? process.env.QUEUE_URL;
    if (!deadLetterQueueUrl || !queueUrl)
      throw new UsageError('--dlq and --queue (or DLQ_URL and QUEUE_URL) are required');
    const rate = values.rate === undefined ? undefined : Number(values.rate);
    if (rate !== undefined && !(Number.isInteger(rate) && rate >= 1 && rate <= 500))
      throw new UsageError("--rate takes a whole number of messages per second from 1 to 500 (SQS's range)");
    return { deadLetterQueueUrl, queueUrl, dryRun: values['dry-run'] === true, rate };
  },
);

async function main(): Promise<number> {
  const result = await redriveDeadLetters({
    client: new SQSClient({}),
    deadLetterQueueUrl: args.deadLetterQueueUrl,
    queueUrl: args.queueUrl,
    dryRun: args.dryRun,
    maxPerSecond: args.rate,
    progress: (moved, total) => {
      const width = 30;
      const done = total ? Math.round((moved / total) * width) : width;
      process.stdout.write(`\r[${'#'.repeat(done)}${'.'.repeat(width - done)}] ${moved}/${total} moved`);
    },
  });
  if (result.status === 'DRY_RUN')
    process.stdout.write(`${result.waiting} messages wait in the dead-letter queue (dry run: nothing moved)\n`);
  else if (result.status === 'NOTHING_TO_MOVE')
    process.stdout.write('The dead-letter queue is empty: nothing to move.\n');
  else
    process.stdout.write(
      `\n${result.status}: ${result.moved} of ${result.waiting} messages moved back${result.failureReason ? ` (${result.failureReason})` : ''}\n`,
    );
  return result.status === 'FAILED' || result.status === 'CANCELLED' || result.status === 'TIMED_OUT' ? 1 : 0;
}

main().then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    process.stderr.write(`dlq:redrive failed: ${(error as Error).message}\n`);
    process.exitCode = 1;
  },
);
