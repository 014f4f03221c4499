import { createServer, type Server } from 'node:http';
import type { LocalQueue } from './local-queue';
import { listen, readBody, replyJson } from './loopback-http';

/**
 * A loopback HTTP endpoint that speaks the part of SQS's JSON protocol the ingest handler uses (SendMessageBatch,
 * SendMessage) and the processor's outage backoff uses (ChangeMessageVisibilityBatch), so the real AWS SDK client,
 * SqsStatusQueue and SqsRetryQueue run locally unchanged.
 *
 * It holds the sender to SQS's limits, answering as SQS does (error types the SDK maps to its exception classes):
 * 1 to 10 entries per batch (`EmptyBatchRequest`, `TooManyEntriesInBatchRequest`), distinct entry ids of at most
 * 80 of `[A-Za-z0-9_-]` (`BatchEntryIdsNotDistinct`, `InvalidBatchEntryId`), a message and a whole batch of at
 * most `maxMessageBytes` (`InvalidParameterValue`, `BatchRequestTooLong`), and only the characters SQS accepts
 * (an entry with others fails alone, `SenderFault` true, code `InvalidMessageContents`). Tests can also make it
 * fail entries (`failEntries`) or whole calls (`setUnavailable`) on demand.
 */
export interface SqsEndpoint {
  /** Pass as the SQSClient's `endpoint`. */
  endpoint: string;
  /** The queue's URL, as a deployed stack would give it. */
  queueUrl: string;
  /**
   * Makes every call fail until set back to false: HTTP 500 `InternalError` by default, or 503
   * `ServiceUnavailable` (to show that nothing is lost when SQS is down).
   */
  setUnavailable(unavailable: boolean, status?: 500 | 503): void;
  /**
   * Decides, for every entry of the coming SendMessageBatch calls, whether SQS reports it in `Failed` instead of
   * queuing it (`undefined` queues it). `attempt` counts the sends of the same body since this call, from 1.
   * Pass `undefined` to stop failing entries.
   */
  failEntries(decide: ((entry: BatchEntryView) => EntryFault | undefined) | undefined): void;
  /** What the endpoint answered, per call (the latest 1,000). */
  readonly calls: readonly EndpointCall[];
  close(): Promise<void>;
}

export interface BatchEntryView {
  id: string;
  body: string;
  /** 1 the first time this exact body is sent after `failEntries`, 2 the second time, ... */
  attempt: number;
}

/** One `Failed` entry as SQS reports it. */
export interface EntryFault {
  /** e.g. `InternalError` (SQS's fault, worth retrying) or `InvalidMessageContents` (the sender's). */
  code: string;
  /** True when the request itself is wrong: sending it again fails the same way. */
  senderFault: boolean;
  message?: string;
}

export interface EndpointCall {
  target: string;
  /** HTTP status of the answer. */
  status: number;
  /** Error type of a refused call (`TooManyEntriesInBatchRequest`, ...). */
  error?: string;
  entries: number;
  queued: number;
  failed: { id: string; code: string; senderFault: boolean }[];
}

export interface SqsEndpointOptions {
  /** The queue's maximum message size, which also bounds the sum of a batch's bodies. @default 262144 */
  maxMessageBytes?: number;
  /** @default 0 (any free port) */
  port?: number;
}

/** SQS's batch limits. */
const MAX_ENTRIES = 10;
const ENTRY_ID = /^[A-Za-z0-9_-]{1,80}$/;
/** `calls` keeps only the latest ones: `npm start` may serve millions. */
const MAX_CALLS_KEPT = 1_000;

/**
 * True when every character is one SQS accepts in a message body:
 * `#x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]` (XML 1.0's characters). With the `u`
 * flag a lone surrogate is its own code point (U+D800-U+DFFF), outside every allowed range, so it is refused too.
 */
export function sqsAcceptsCharacters(body: string): boolean {
  return !/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u.test(body);
}

export async function startSqsEndpoint(queue: LocalQueue, options: SqsEndpointOptions = {}): Promise<SqsEndpoint> {
  const { maxMessageBytes = 262_144, port = 0 } = options;
  let unavailable: false | 500 | 503 = false;
  let decide: ((entry: BatchEntryView) => EntryFault | undefined) | undefined;
  const sends = new Map<string, number>();
  const calls: EndpointCall[] = [];
  /** Sends per body, counted only while `failEntries` is in force (so `npm start` keeps no bodies). */
  const countSend = (body: string) => {
    const attempt = (sends.get(body) ?? 0) + 1;
    sends.set(body, attempt);
    return attempt;
  };

  const server: Server = createServer(async (req, res) => {
    const target = String(req.headers['x-amz-target'] ?? '').replace(/^AmazonSQS\./, '');
    const call: EndpointCall = { target, status: 200, entries: 0, queued: 0, failed: [] };
    calls.push(call);
    if (calls.length > MAX_CALLS_KEPT) calls.shift();
    const reply = (status: number, body: Record<string, unknown>) => {
      call.status = status;
      if (typeof body.__type === 'string') call.error = body.__type.replace(/^com\.amazonaws\.sqs#/, '');
      replyJson(res, status, body, 'application/x-amz-json-1.0');
    };
    const refuse = (type: string, message: string, status = 400) =>
      reply(status, { __type: `com.amazonaws.sqs#${type}`, message });

    const body = await readBody(req);
    if (unavailable === 503) return refuse('ServiceUnavailable', 'local SQS is unavailable', 503);
    if (unavailable) return refuse('InternalError', 'local SQS is down', 500);
    let input: Record<string, unknown>;
    try {
      input = JSON.parse(body) as Record<string, unknown>;
    } catch {
      return refuse('InvalidParameterValue', 'body is not JSON');
    }

    if (target === 'SendMessageBatch') {
      const entries = (Array.isArray(input.Entries) ? input.Entries : []) as { Id?: unknown; MessageBody?: unknown }[];
      call.entries = entries.length;
      if (entries.length === 0)
        return refuse('EmptyBatchRequest', 'There should be at least one SendMessageBatchRequestEntry in the request.');
      if (entries.length > MAX_ENTRIES) {
        return refuse(
          'TooManyEntriesInBatchRequest',
          `Maximum number of entries per request are ${MAX_ENTRIES}. You have sent ${entries.length}.`,
        );
      }
      const ids = entries.map((entry) => String(entry.Id ?? ''));
      if (ids.some((id) => !ENTRY_ID.test(id))) {
        return refuse(
          'InvalidBatchEntryId',
          'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.',
        );
      }
      if (new Set(ids).size !== ids.length)
        return refuse('BatchEntryIdsNotDistinct', 'Two or more batch entries in the request have the same Id.');
      const bodies = entries.map((entry) => (typeof entry.MessageBody === 'string' ? entry.MessageBody : ''));
      const total = bodies.reduce((sum, text) => sum + Buffer.byteLength(text, 'utf8'), 0);
      if (total > maxMessageBytes) {
        return refuse(
          'BatchRequestTooLong',
          `Batch requests cannot be longer than ${maxMessageBytes} bytes. You have sent ${total} bytes.`,
        );
      }

      const successful: { Id: string; MessageId: string; MD5OfMessageBody: string }[] = [];
      const failed: { Id: string; Code: string; SenderFault: boolean; Message: string }[] = [];
      entries.forEach((_entry, index) => {
        const id = ids[index] as string;
        const text = bodies[index] as string;
        const fault = entryFault(text) ?? (decide ? decide({ id, body: text, attempt: countSend(text) }) : undefined);
        if (fault) {
          failed.push({
            Id: id,
            Code: fault.code,
            SenderFault: fault.senderFault,
            Message: fault.message ?? fault.code,
          });
          call.failed.push({ id, code: fault.code, senderFault: fault.senderFault });
          return;
        }
        const { messageId, md5 } = queue.send(text);
        successful.push({ Id: id, MessageId: messageId, MD5OfMessageBody: md5 });
      });
      call.queued = successful.length;
      return reply(200, { Successful: successful, Failed: failed });
    }

    if (target === 'SendMessage') {
      const text = typeof input.MessageBody === 'string' ? input.MessageBody : '';
      call.entries = 1;
      if (Buffer.byteLength(text, 'utf8') > maxMessageBytes) {
        return refuse(
          'InvalidParameterValue',
          `One or more parameters are invalid. Reason: Message must be shorter than ${maxMessageBytes} bytes.`,
        );
      }
      const fault = entryFault(text);
      if (fault) return refuse(fault.code, fault.message ?? fault.code);
      const { messageId, md5 } = queue.send(text);
      call.queued = 1;
      return reply(200, { MessageId: messageId, MD5OfMessageBody: md5 });
    }
    if (target === 'ChangeMessageVisibilityBatch') {
      // The processor's outage backoff (lambdas/processor/retry-queue.ts), with SQS's limits.
      const entries = (Array.isArray(input.Entries) ? input.Entries : []) as {
        Id?: unknown;
        ReceiptHandle?: unknown;
        VisibilityTimeout?: unknown;
      }[];
      call.entries = entries.length;
      if (entries.length === 0)
        return refuse(
          'EmptyBatchRequest',
          'There should be at least one ChangeMessageVisibilityBatchRequestEntry in the request.',
        );
      if (entries.length > 10)
        return refuse(
          'TooManyEntriesInBatchRequest',
          `Maximum number of entries per request are 10. You have sent ${entries.length}.`,
        );
      const successful: { Id: string }[] = [];
      const failed: { Id: string; Code: string; Message: string; SenderFault: boolean }[] = [];
      for (const entry of entries) {
        const id = String(entry.Id);
        const seconds = Number(entry.VisibilityTimeout);
        if (!Number.isInteger(seconds) || seconds < 0 || seconds > 43_200) {
          failed.push({
            Id: id,
            Code: 'InvalidParameterValue',
            Message: 'VisibilityTimeout must be an integer from 0 to 43200',
            SenderFault: true,
          });
          continue;
        }
        try {
          await queue.delayRetries([
            { messageId: id, receiptHandle: String(entry.ReceiptHandle), delaySeconds: seconds },
          ]);
          successful.push({ Id: id });
        } catch {
          failed.push({
            Id: id,
            Code: 'ReceiptHandleIsInvalid',
            Message: 'The input receipt handle is invalid.',
            SenderFault: true,
          });
        }
      }
      call.failed = failed.map((f) => ({ id: f.Id, code: f.Code, senderFault: f.SenderFault }));
      return reply(200, { Successful: successful, Failed: failed });
    }
    return refuse('UnsupportedOperation', `${target} is not served locally`);
  });

  // Closing lets requests in flight finish (the poller's last receive or delete), unlike the other stand-ins.
  const { url: endpoint, close } = await listen(server, port);
  return {
    endpoint,
    queueUrl: `${endpoint}/000000000000/${queue.name}`,
    setUnavailable: (value, status = 500) => {
      unavailable = value ? status : false;
    },
    failEntries: (rule) => {
      decide = rule;
      sends.clear();
    },
    calls,
    close: () => close({ dropConnections: false }),
  };
}

/** What SQS itself says about one message body, whatever the test asked for. */
function entryFault(body: string): EntryFault | undefined {
  if (body.length === 0)
    return {
      code: 'InvalidParameterValue',
      senderFault: true,
      message: 'The request must contain the parameter MessageBody.',
    };
  if (!sqsAcceptsCharacters(body)) {
    return {
      code: 'InvalidMessageContents',
      senderFault: true,
      message:
        'Invalid binary character was found in the message body, the set of allowed characters is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF',
    };
  }
  return undefined;
}
