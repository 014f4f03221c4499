import {
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  type SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';

/**
 * Moves the dead-letter queue's messages back to the status queue with SQS's own message move task (the API the
 * console's "Start DLQ redrive" uses), so nothing is received and re-sent by hand and nothing can be lost in
 * between. For use once the cause (a Supabase outage, a bad secret) is fixed.
 */
export interface RedriveOptions {
  client: SQSClient;
  deadLetterQueueUrl: string;
  queueUrl: string;
  dryRun: boolean;
  /** Messages per second SQS may move (protects Supabase after an outage). @default unlimited (SQS's pace) */
  maxPerSecond?: number;
  /** Called with each progress reading. */
  progress?: (moved: number, total: number) => void;
  pollMs?: number;
  /** Give up waiting after this long (the move goes on in SQS). @default 15 minutes */
  timeoutMs?: number;
}

export interface RedriveResult {
  waiting: number;
  moved: number;
  status: 'DRY_RUN' | 'NOTHING_TO_MOVE' | 'COMPLETED' | 'FAILED' | 'CANCELLED' | 'TIMED_OUT' | 'RUNNING';
  failureReason?: string;
}

async function attributes(client: SQSClient, queueUrl: string) {
  const { Attributes: a = {} } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn', 'ApproximateNumberOfMessages'] }),
  );
  if (!a.QueueArn) throw new Error(`no such queue: ${queueUrl}`);
  return { arn: a.QueueArn, waiting: Number(a.ApproximateNumberOfMessages ?? 0) };
}

export async function redriveDeadLetters(options: RedriveOptions): Promise<RedriveResult> {
  const { client } = options;
  const dlq = await attributes(client, options.deadLetterQueueUrl);
  const target = await attributes(client, options.queueUrl);
  if (options.dryRun) return { waiting: dlq.waiting, moved: 0, status: 'DRY_RUN' };
  if (dlq.waiting === 0) return { waiting: 0, moved: 0, status: 'NOTHING_TO_MOVE' };

  const { TaskHandle } = await client.send(
    new StartMessageMoveTaskCommand({
      SourceArn: dlq.arn,
      DestinationArn: target.arn,
      ...(options.maxPerSecond ? { MaxNumberOfMessagesPerSecond: options.maxPerSecond } : {}),
    }),
  );
  const deadline = Date.now() + (options.timeoutMs ?? 15 * 60_000);
  for (;;) {
    const { Results = [] } = await client.send(new ListMessageMoveTasksCommand({ SourceArn: dlq.arn, MaxResults: 10 }));
    const task = Results.find((t) => !TaskHandle || t.TaskHandle === TaskHandle) ?? Results[0];
    const moved = Number(task?.ApproximateNumberOfMessagesMoved ?? 0);
    const total = Number(task?.ApproximateNumberOfMessagesToMove ?? dlq.waiting);
    options.progress?.(moved, total);
    const status = task?.Status;
    if (status === 'COMPLETED' || status === 'FAILED' || status === 'CANCELLED') {
      return { waiting: dlq.waiting, moved, status, failureReason: task?.FailureReason };
    }
    if (Date.now() > deadline) return { waiting: dlq.waiting, moved, status: 'TIMED_OUT' };
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 2_000));
  }
}
