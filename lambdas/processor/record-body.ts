import type { SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { QueueMessage } from '../domain/queue-message';

/**
 * The body of an SQS record on the status queue: JSON text holding one queue message (lambdas/domain/queue-message.ts).
 * Parsed with zod in the record handler: Powertools' own `parser` option would need @aws-lambda-powertools/parser,
 * which this project does not install.
 */
export const StatusRecordBody = z
  .string()
  .transform((text, ctx): unknown => {
    try {
      return JSON.parse(text);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'the body is not JSON' });
      return z.NEVER;
    }
  })
  .pipe(QueueMessage);

/** A record whose body is not a queue message this version understands: it fails alone (retry, then DLQ). */
export class PoisonRecordError extends Error {
  override readonly name = 'PoisonRecordError';
}

/** The queue message a record carries; throws PoisonRecordError, naming the first problem, when there is none. */
export function parseStatusRecord(record: Pick<SQSRecord, 'body'>): QueueMessage {
  const parsed = StatusRecordBody.safeParse(record.body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
  throw new PoisonRecordError(`record is not a status message: ${where}${issue?.message ?? 'invalid'}`);
}
