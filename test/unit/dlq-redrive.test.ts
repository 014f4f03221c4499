import {
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { redriveDeadLetters } from '../../tools/dlq-redrive';

const DLQ = 'https://sqs.eu-west-1.amazonaws.com/123456789012/tracker-dlq';
const QUEUE = 'https://sqs.eu-west-1.amazonaws.com/123456789012/tracker-queue';

/** The SQS client stubbed at the SDK's send layer (aws-sdk-client-mock): every request the tool makes is checked. */
describe('dlq:redrive', () => {
  const sqs = mockClient(SQSClient);
  beforeEach(() => {
    sqs.reset();
    sqs
      .on(GetQueueAttributesCommand, { QueueUrl: DLQ })
      .resolves({ Attributes: { QueueArn: 'arn:dlq', ApproximateNumberOfMessages: '42' } });
    sqs
      .on(GetQueueAttributesCommand, { QueueUrl: QUEUE })
      .resolves({ Attributes: { QueueArn: 'arn:queue', ApproximateNumberOfMessages: '0' } });
  });

  it('only counts in a dry run', async () => {
    const result = await redriveDeadLetters({
      client: new SQSClient({}),
      deadLetterQueueUrl: DLQ,
      queueUrl: QUEUE,
      dryRun: true,
    });
    expect(result).toEqual({ waiting: 42, moved: 0, status: 'DRY_RUN' });
    expect(sqs.commandCalls(StartMessageMoveTaskCommand)).toHaveLength(0);
  });

  it('starts a move task from the DLQ to the queue and reports progress until it completes', async () => {
    sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 'task-1' });
    sqs
      .on(ListMessageMoveTasksCommand)
      .resolvesOnce({
        Results: [
          {
            TaskHandle: 'task-1',
            Status: 'RUNNING',
            ApproximateNumberOfMessagesMoved: 10,
            ApproximateNumberOfMessagesToMove: 42,
          },
        ],
      })
      .resolves({
        Results: [
          {
            TaskHandle: 'task-1',
            Status: 'COMPLETED',
            ApproximateNumberOfMessagesMoved: 42,
            ApproximateNumberOfMessagesToMove: 42,
          },
        ],
      });
    const progress: [number, number][] = [];
    const result = await redriveDeadLetters({
      client: new SQSClient({}),
      deadLetterQueueUrl: DLQ,
      queueUrl: QUEUE,
      dryRun: false,
      maxPerSecond: 50,
      pollMs: 1,
      progress: (m, t) => progress.push([m, t]),
    });
    expect(result).toEqual({ waiting: 42, moved: 42, status: 'COMPLETED', failureReason: undefined });
    expect(sqs.commandCalls(StartMessageMoveTaskCommand)[0]?.args[0].input).toEqual({
      SourceArn: 'arn:dlq',
      DestinationArn: 'arn:queue',
      MaxNumberOfMessagesPerSecond: 50,
    });
    expect(progress).toEqual([
      [10, 42],
      [42, 42],
    ]);
  });

  it('does nothing when the DLQ is empty', async () => {
    sqs
      .on(GetQueueAttributesCommand, { QueueUrl: DLQ })
      .resolves({ Attributes: { QueueArn: 'arn:dlq', ApproximateNumberOfMessages: '0' } });
    const result = await redriveDeadLetters({
      client: new SQSClient({}),
      deadLetterQueueUrl: DLQ,
      queueUrl: QUEUE,
      dryRun: false,
    });
    expect(result.status).toBe('NOTHING_TO_MOVE');
    expect(sqs.commandCalls(StartMessageMoveTaskCommand)).toHaveLength(0);
  });

  it('reports a failed move with its reason', async () => {
    sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 'task-2' });
    sqs.on(ListMessageMoveTasksCommand).resolves({
      Results: [
        {
          TaskHandle: 'task-2',
          Status: 'FAILED',
          FailureReason: 'AccessDenied',
          ApproximateNumberOfMessagesMoved: 3,
        },
      ],
    });
    const result = await redriveDeadLetters({
      client: new SQSClient({}),
      deadLetterQueueUrl: DLQ,
      queueUrl: QUEUE,
      dryRun: false,
      pollMs: 1,
    });
    expect(result).toMatchObject({ status: 'FAILED', moved: 3, failureReason: 'AccessDenied' });
  });
});
