import { type FirehoseClient, PutRecordBatchCommand, type PutRecordBatchCommandOutput } from '@aws-sdk/client-firehose';
import { withDeadline } from '../shared/deadline';

/**
 * Where the ingest keeps every authenticated webhook as it was sent (lambdas/domain/archive-record.ts makes the
 * lines). Independent of the queue and the database: the archive is the record of what providers sent, the table
 * is what was made of it (docs/archive.md).
 */
export interface WebhookArchive {
  /** Resolves when every line is stored; rejects otherwise (the ingest counts it and answers regardless). */
  put(lines: readonly string[]): Promise<void>;
}

/** The archive refused or could not take the lines in time. */
export class ArchiveUnavailableError extends Error {
  override readonly name = 'ArchiveUnavailableError';
}

/**
 * PutRecordBatch's own limits: 500 records and "4 MB" a call
 * (https://docs.aws.amazon.com/firehose/latest/APIReference/API_PutRecordBatch.html), read as the smaller 4,000,000.
 */
const MAX_RECORDS_PER_CALL = 500;
const MAX_BYTES_PER_CALL = 4_000_000;
/** How many times records Firehose reports as failed (throttled, its own error) are sent again. */
const FAILED_RECORD_RETRIES = 2;

/**
 * Kinesis Data Firehose (DirectPut) through the AWS SDK: one PutRecordBatch per webhook (more only for a webhook
 * over 4 MiB), records Firehose failed sent again, the whole write bounded by `deadlineMs` (the ingest's budget,
 * lambdas/domain/ingest-budget.ts).
 */
export class FirehoseWebhookArchive implements WebhookArchive {
  constructor(
    private readonly client: FirehoseClient,
    private readonly streamName: string,
    private readonly deadlineMs?: number,
  ) {}

  async put(lines: readonly string[]): Promise<void> {
    const putAll = async (signal?: AbortSignal) => {
      await Promise.all(callsOf(lines).map((records) => this.putBatch(records, signal)));
    };
    if (this.deadlineMs === undefined) return putAll();
    const deadlineMs = this.deadlineMs;
    return withDeadline(
      deadlineMs,
      putAll,
      () => new ArchiveUnavailableError(`PutRecordBatch did not finish within ${deadlineMs} ms`),
    );
  }

  private async putBatch(lines: readonly string[], abortSignal?: AbortSignal): Promise<void> {
    let pending = lines.map((line) => Buffer.from(line, 'utf8'));
    for (let attempt = 0; attempt <= FAILED_RECORD_RETRIES; attempt++) {
      let answer: PutRecordBatchCommandOutput;
      try {
        answer = await this.client.send(
          new PutRecordBatchCommand({
            DeliveryStreamName: this.streamName,
            Records: pending.map((Data) => ({ Data })),
          }),
          { abortSignal },
        );
      } catch (error) {
        throw new ArchiveUnavailableError(`PutRecordBatch failed: ${(error as Error).name}`, { cause: error });
      }
      if (!answer.FailedPutCount) return;
      // RequestResponses is in the order of the records: keep those with an ErrorCode.
      const responses = answer.RequestResponses ?? [];
      pending = pending.filter((_, index) => responses[index]?.ErrorCode !== undefined);
      if (pending.length === 0) return;
    }
    throw new ArchiveUnavailableError(`${pending.length} records still failed after ${FAILED_RECORD_RETRIES} retries`);
  }
}

/** The lines grouped into calls within PutRecordBatch's limits. */
function callsOf(lines: readonly string[]): string[][] {
  const calls: string[][] = [];
  let current: string[] = [];
  let bytes = 0;
  for (const line of lines) {
    const size = Buffer.byteLength(line, 'utf8');
    if (current.length > 0 && (current.length === MAX_RECORDS_PER_CALL || bytes + size > MAX_BYTES_PER_CALL)) {
      calls.push(current);
      current = [];
      bytes = 0;
    }
    current.push(line);
    bytes += size;
  }
  if (current.length > 0) calls.push(current);
  return calls;
}
