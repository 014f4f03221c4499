/**
 * `npm run dlq:redrive -- --dlq <url> --queue <url> [--dry-run] [--rate N]`
 * Queue URLs are the stack outputs DeadLetterQueueUrl and QueueUrl (also read from DLQ_URL and QUEUE_URL).
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { redriveDeadLetters } from './dlq-redrive';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
}

async function main(): Promise<number> {
  const deadLetterQueueUrl = arg('--dlq') ?? process.env.DLQ_URL;
  const queueUrl = arg('--queue') ?? process.env.QUEUE_URL;
  if (!deadLetterQueueUrl || !queueUrl) {
    process.stderr.write('usage: npm run dlq:redrive -- --dlq <DeadLetterQueueUrl> --queue <QueueUrl> [--dry-run] [--rate <messages per second>]\n');
    return 2;
  }
  const rate = arg('--rate');
  const result = await redriveDeadLetters({
    client: new SQSClient({}),
    deadLetterQueueUrl,
    queueUrl,
    dryRun: process.argv.includes('--dry-run'),
    maxPerSecond: rate ? Number(rate) : undefined,
    progress: (moved, total) => {
      const width = 30;
      const done = total ? Math.round((moved / total) * width) : width;
      process.stdout.write(`\r[${'#'.repeat(done)}${'.'.repeat(width - done)}] ${moved}/${total} moved`);
    },
  });
  if (result.status === 'DRY_RUN') process.stdout.write(`${result.waiting} messages wait in the dead-letter queue (dry run: nothing moved)\n`);
  else if (result.status === 'NOTHING_TO_MOVE') process.stdout.write('The dead-letter queue is empty: nothing to move.\n');
  else process.stdout.write(`\n${result.status}: ${result.moved} of ${result.waiting} messages moved back${result.failureReason ? ` (${result.failureReason})` : ''}\n`);
  return result.status === 'FAILED' || result.status === 'CANCELLED' || result.status === 'TIMED_OUT' ? 1 : 0;
}

main().then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    process.stderr.write(`dlq:redrive failed: ${(error as Error).message}\n`);
    process.exitCode = 1;
  },
);
