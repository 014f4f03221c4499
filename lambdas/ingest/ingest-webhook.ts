import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { normalizeWebhook, WebhookFormatError } from '../domain/normalize-webhook';
import { packQueueMessages, type PackingLimits } from '../domain/queue-message';
import { RequestError } from '../shared/errors';
import type { StatusQueue } from './status-queue';

export interface IngestDependencies {
  queue: StatusQueue;
  logger: Logger;
  /** Bodies larger than this are refused with 413 before any parsing. */
  maxBodyBytes: number;
  packing?: PackingLimits;
}

/** What the provider gets back for a webhook it should not retry. */
export interface IngestResponseBody {
  accepted: number;
  rejected: { index: number; reason: string }[];
  ignored?: string;
}

/**
 * The ingest Lambda's logic: raw request -> parse -> normalize -> enqueue -> response.
 * 200 when the webhook was understood (even if some items were rejected: a retry could not fix them),
 * 4xx with a reason for the caller's faults, 503 only when the queue failed, so the provider retries.
 * Never 410: AiSensy disables a webhook that answers 410.
 */
export function createIngestHandler(deps: IngestDependencies) {
  const { queue, logger, maxBodyBytes, packing } = deps;

  return async function ingestWebhook(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
    const correlationId = event.requestContext?.requestId;
    try {
      if (event.httpMethod !== 'POST') throw new RequestError(405, `${event.httpMethod} is not supported here; use POST`);
      const body = parseJsonBody(event, maxBodyBytes);
      let webhook;
      try {
        webhook = normalizeWebhook(body);
      } catch (error) {
        if (error instanceof WebhookFormatError) throw new RequestError(400, error.message);
        throw error;
      }
      if (webhook.updates.length > 0) {
        try {
          await queue.send(packQueueMessages(webhook.updates, correlationId, packing));
        } catch (error) {
          logger.error('could not queue the statuses; the provider will retry', {
            error: error as Error,
            statuses: webhook.updates.length,
          });
          return json(503, { error: 'the status queue is unavailable; retry later' });
        }
      }
      logger.info('webhook accepted', {
        format: webhook.format,
        accepted: webhook.updates.length,
        rejected: webhook.rejected.length,
        ...(webhook.ignored ? { ignored: webhook.ignored } : {}),
      });
      if (webhook.rejected.length) logger.warn('webhook items rejected', { rejected: webhook.rejected.slice(0, 20) });
      const response: IngestResponseBody = { accepted: webhook.updates.length, rejected: webhook.rejected };
      if (webhook.ignored) response.ignored = webhook.ignored;
      return json(200, response);
    } catch (error) {
      if (error instanceof RequestError) {
        logger.warn('webhook refused', { statusCode: error.statusCode, reason: error.reason });
        return json(error.statusCode, { error: error.reason });
      }
      // Unexpected: say nothing about internals to the caller; 500 lets the provider retry.
      logger.error('unexpected ingest failure', { error: error as Error });
      return json(500, { error: 'internal error' });
    }
  };
}

/** Decodes (base64 when API Gateway says so), bounds and parses the body. */
export function parseJsonBody(event: Pick<APIGatewayProxyEvent, 'body' | 'isBase64Encoded'>, maxBodyBytes: number): unknown {
  if (event.body === null || event.body === undefined || event.body === '') {
    throw new RequestError(400, 'body is empty; expected a JSON webhook');
  }
  const raw = event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
  if (raw.byteLength > maxBodyBytes) {
    throw new RequestError(413, `body is ${raw.byteLength} bytes; the limit is ${maxBodyBytes}`);
  }
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new RequestError(400, 'body is not valid JSON');
  }
}

function json(statusCode: number, body: unknown): APIGatewayProxyResult {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}
