import { createServer } from 'node:http';
import { listen, readBody, replyJson } from '../local/loopback-http';

export interface PutEntry {
  EventBusName?: string;
  Source: string;
  DetailType: string;
  Detail: string;
}

/**
 * EventBridge's PutEvents on loopback (AWS JSON 1.1, `X-Amz-Target: AWSEvents.PutEvents`), for the bundles' tests and
 * the bench: answers after `latencyMs`, accepting every entry, and keeps what it accepted.
 */
export async function startFakeEventBridge(options: { latencyMs?: number } = {}) {
  const accepted: PutEntry[] = [];
  let requests = 0;
  const server = createServer(async (req, res) => {
    const body = JSON.parse(await readBody(req)) as { Entries: PutEntry[] };
    requests++;
    accepted.push(...body.Entries);
    const answer = () =>
      replyJson(
        res,
        200,
        { FailedEntryCount: 0, Entries: body.Entries.map((_, i) => ({ EventId: `event-${requests}-${i}` })) },
        'application/x-amz-json-1.1',
      );
    if (options.latencyMs) setTimeout(answer, options.latencyMs);
    else answer();
  });
  const listening = await listen(server);
  return { endpoint: listening.url, accepted, requests: () => requests, close: () => listening.close() };
}
