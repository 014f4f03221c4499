import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LocalQueue } from './local-queue';

/**
 * A loopback HTTP endpoint that speaks the part of SQS's JSON protocol the ingest handler uses (SendMessageBatch,
 * SendMessage), so the real AWS SDK client and the real SqsStatusQueue run locally unchanged.
 */
export interface SqsEndpoint {
  /** Pass as the SQSClient's `endpoint`. */
  endpoint: string;
  /** The queue's URL, as a deployed stack would give it. */
  queueUrl: string;
  /** Makes every call fail with 500 until set back to false (to show that nothing is lost when SQS is down). */
  setUnavailable(unavailable: boolean): void;
  close(): Promise<void>;
}

export async function startSqsEndpoint(queue: LocalQueue, port = 0): Promise<SqsEndpoint> {
  let unavailable = false;
  const server: Server = createServer(async (req, res) => {
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify(body));
    };
    if (unavailable) return reply(500, { __type: 'com.amazonaws.sqs#InternalError', message: 'local SQS is down' });
    const target = String(req.headers['x-amz-target'] ?? '');
    let input: Record<string, unknown>;
    try {
      input = JSON.parse(await readBody(req)) as Record<string, unknown>;
    } catch {
      return reply(400, { __type: 'com.amazonaws.sqs#InvalidParameterValue', message: 'body is not JSON' });
    }
    if (target === 'AmazonSQS.SendMessageBatch') {
      const entries = (input.Entries ?? []) as { Id: string; MessageBody: string }[];
      if (entries.length === 0 || entries.length > 10) {
        return reply(400, { __type: 'com.amazonaws.sqs#TooManyEntriesInBatchRequest', message: 'send 1 to 10 entries' });
      }
      const successful = entries.map((entry) => {
        const { messageId, md5 } = queue.send(entry.MessageBody);
        return { Id: entry.Id, MessageId: messageId, MD5OfMessageBody: md5 };
      });
      return reply(200, { Successful: successful, Failed: [] });
    }
    if (target === 'AmazonSQS.SendMessage') {
      const { messageId, md5 } = queue.send(String(input.MessageBody ?? ''));
      return reply(200, { MessageId: messageId, MD5OfMessageBody: md5 });
    }
    return reply(400, { __type: 'com.amazonaws.sqs#UnsupportedOperation', message: `${target} is not served locally` });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: actual } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${actual}`;
  return {
    endpoint,
    queueUrl: `${endpoint}/000000000000/${queue.name}`,
    setUnavailable: (value) => {
      unavailable = value;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
