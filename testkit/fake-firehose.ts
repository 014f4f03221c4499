import { createServer, type Server } from 'node:http';
import { listen, readBody, replyJson } from '../local/loopback-http';

/**
 * A loopback endpoint serving Kinesis Data Firehose's PutRecordBatch (AWS JSON 1.1), so the bundled ingest writes
 * its archive records through the real SDK. Point it there with AWS_ENDPOINT_URL_FIREHOSE. Keeps every record's
 * data, decoded, by stream name.
 */
export async function startFakeFirehose(): Promise<{
  endpoint: string;
  records: Map<string, string[]>;
  close(): Promise<void>;
}> {
  const records = new Map<string, string[]>();
  const server: Server = createServer(async (req, res) => {
    const reply = (status: number, body: unknown) => replyJson(res, status, body, 'application/x-amz-json-1.1');
    if (req.headers['x-amz-target'] !== 'Firehose_20150804.PutRecordBatch')
      return reply(400, { __type: 'InvalidArgumentException' });
    const input = JSON.parse((await readBody(req)) || '{}') as {
      DeliveryStreamName?: string;
      Records?: { Data: string }[];
    };
    const name = input.DeliveryStreamName ?? '';
    const kept = records.get(name) ?? [];
    for (const record of input.Records ?? []) kept.push(Buffer.from(record.Data, 'base64').toString('utf8'));
    records.set(name, kept);
    return reply(200, {
      FailedPutCount: 0,
      Encrypted: true,
      RequestResponses: (input.Records ?? []).map((_, i) => ({ RecordId: `r${i}` })),
    });
  });
  const { url, close } = await listen(server);
  return { endpoint: url, records, close: () => close() };
}
