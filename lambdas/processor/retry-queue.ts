import { ChangeMessageVisibilityBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';

/** One received message to hide for `delaySeconds` from now. */
export interface RetryDelay {
  /** The SQS message id (used to name failed entries). */
  messageId: string;
  receiptHandle: string;
  delaySeconds: number;
}

/**
 * What the processor asks of its queue beyond what the event source does: keep received messages hidden longer
 * before their next receive (SQS ChangeMessageVisibility). A port, so that the local run and the alert simulator
 * give their own queues and the tests need no SDK mocks.
 */
export interface RetryQueue {
  /** Resolves when every message is hidden for its delay; rejects naming what could not be. */
  delayRetries(delays: readonly RetryDelay[]): Promise<void>;
}

/** SQS allows at most 10 entries per ChangeMessageVisibilityBatch. */
const SQS_BATCH_ENTRIES = 10;

/** SQS through the AWS SDK: ChangeMessageVisibilityBatch (IAM action sqs:ChangeMessageVisibility). */
export class SqsRetryQueue implements RetryQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async delayRetries(delays: readonly RetryDelay[]): Promise<void> {
    const chunks: RetryDelay[][] = [];
    for (let i = 0; i < delays.length; i += SQS_BATCH_ENTRIES) chunks.push(delays.slice(i, i + SQS_BATCH_ENTRIES));
    const failures = await Promise.all(
      chunks.map(async (chunk) => {
        const { Failed = [] } = await this.client.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: this.queueUrl,
            Entries: chunk.map((d, index) => ({
              Id: String(index),
              ReceiptHandle: d.receiptHandle,
              VisibilityTimeout: d.delaySeconds,
            })),
          }),
        );
        return Failed.map((f) => `${chunk[Number(f.Id)]?.messageId}: ${f.Code}`);
      }),
    );
    const failed = failures.flat();
    if (failed.length)
      throw new Error(
        `ChangeMessageVisibilityBatch failed for ${failed.length} of ${delays.length} messages (${failed.slice(0, 3).join(', ')})`,
      );
  }
}
