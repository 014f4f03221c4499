import { type BatchResultErrorEntry, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { withDeadline } from '../shared/deadline';

/** Where the ingest handler puts packed status messages. */
export interface StatusQueue {
  /** Sends every request (each at most 10 message bodies); resolves only when every message is on the queue. */
  send(requests: readonly (readonly string[])[]): Promise<void>;
}

/** The queue refused or could not take the messages: answered with 503 so the provider retries. */
export class QueueUnavailableError extends Error {
  override readonly name = 'QueueUnavailableError';
}

/** How many times entries that SQS reports as failed (its own fault, not ours) are sent again. */
const FAILED_ENTRY_RETRIES = 2;

/**
 * SQS through the AWS SDK. Requests run in parallel; entries SQS fails on its side are retried. With `deadlineMs`,
 * the whole send (every request, attempt and resend) is aborted after that long and refused as unavailable: the
 * ingest's time budget (lambdas/domain/ingest-budget.ts). @default no deadline beyond the client's own timeouts
 */
export class SqsStatusQueue implements StatusQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
    private readonly deadlineMs?: number,
  ) {}

  async send(requests: readonly (readonly string[])[]): Promise<void> {
    const sendAll = async (signal?: AbortSignal) => {
      await Promise.all(requests.map((bodies) => this.sendBatch(bodies, signal)));
    };
    if (this.deadlineMs === undefined) return sendAll();
    const deadlineMs = this.deadlineMs;
    return withDeadline(
      deadlineMs,
      sendAll,
      () => new QueueUnavailableError(`SendMessageBatch did not finish within ${deadlineMs} ms`),
    );
  }

  private async sendBatch(bodies: readonly string[], abortSignal?: AbortSignal): Promise<void> {
    let entries = bodies.map((body, index) => ({ Id: String(index), MessageBody: body }));
    for (let attempt = 0; attempt <= FAILED_ENTRY_RETRIES; attempt++) {
      let failed: BatchResultErrorEntry[];
      try {
        ({ Failed: failed = [] } = await this.client.send(
          new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: entries }),
          { abortSignal },
        ));
      } catch (error) {
        throw new QueueUnavailableError(`SendMessageBatch failed: ${(error as Error).name}`, { cause: error });
      }
      if (failed.length === 0) return;
      const senderFault = failed.find((f) => f.SenderFault);
      if (senderFault) {
        throw new QueueUnavailableError(`SQS refused an entry: ${senderFault.Code ?? 'unknown'}`);
      }
      const failedIds = new Set(failed.map((f) => f.Id));
      entries = entries.filter((entry) => failedIds.has(entry.Id));
    }
    throw new QueueUnavailableError(`${entries.length} entries still failed after ${FAILED_ENTRY_RETRIES} retries`);
  }
}
