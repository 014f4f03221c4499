import { randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { type ArchivedWebhook, archivedHeaders, archiveLines } from '../domain/archive-record';
import { METRIC } from '../domain/metric-names';
import {
  type NormalizeOptions,
  normalizeWebhook,
  WebhookFormatError,
  WebhookTooLargeError,
} from '../domain/normalize-webhook';
import { type PackingLimits, packQueueMessages } from '../domain/queue-message';
import type { StatusTimeWindow } from '../domain/timestamps';
import {
  authenticateWebhook,
  hasAnyCredential,
  verificationChallenge,
  type WebhookCredentials,
} from '../domain/webhook-auth';
import { RequestError, SecretConfigurationError } from '../shared/errors';
import { maskPhoneLike, safeError } from '../shared/log-safe';
import { type ApiGatewayEvent, toProxyEvent } from './api-gateway-event';
import type { StatusQueue } from './status-queue';
import type { WebhookArchive } from './webhook-archive';

export interface IngestDependencies {
  queue: StatusQueue;
  logger: Logger;
  /** Receives StatusesAccepted, ItemsRejected and WebhookAuthFailures (EMF); logMetrics publishes them after every request. */
  metrics: Metrics;
  /** Bodies larger than this are refused with 413 before any parsing. */
  maxBodyBytes: number;
  /**
   * Statuses one webhook may carry (Meta sends at most 1,000); also the bound on its entries and changes, counted
   * before any item is parsed. @default 5000
   */
  maxStatusesPerWebhook?: number;
  packing?: PackingLimits;
  /**
   * How far from the receipt a status time may be (a forged early time is permanent under earliest-wins). The
   * receipt is API Gateway's `requestTimeEpoch`, else `now()`. The Lambda and `npm start` always pass one
   * (MAX_STATUS_AGE_DAYS, MAX_STATUS_AHEAD_SECONDS: 30 days and 300 s by default).
   * @default undefined: times are not compared with the receipt
   */
  statusTimeWindow?: StatusTimeWindow;
  /** The clock, for tests. @default Date.now */
  now?: () => number;
  /** The webhook credentials in force (the Lambda reads them from Secrets Manager, cached). */
  credentials: () => Promise<WebhookCredentials> | WebhookCredentials;
  /**
   * A deployed webhook must be authenticated: when true and no credential is configured, requests are refused
   * with 503 (a misconfiguration the provider's retries will outlive) instead of being accepted unauthenticated.
   */
  requireAuth: boolean;
  /**
   * Where every authenticated webhook is kept as sent (docs/archive.md), beside the queue send and within its own
   * deadline; a failure is counted (ArchiveFailures) and logged, never answered. @default none: nothing is archived
   */
  archive?: WebhookArchive;
  /** The archive record's id, for tests. @default crypto.randomUUID */
  newArchiveId?: () => string;
}

/** What the provider gets back for a webhook it should not retry. */
export interface IngestResponseBody {
  accepted: number;
  /** Account and template health events queued (Meta's account fields). */
  accountEvents?: number;
  rejected: { index: number; reason: string }[];
  ignored?: string;
}

/**
 * The ingest Lambda's logic: raw request -> authenticate -> parse -> normalize -> enqueue -> response.
 * 200 when the webhook was understood (even if some items were rejected: a retry could not fix them),
 * 4xx with a reason for the caller's faults, 5xx only when a retry could help (queue down, misconfiguration).
 * Never 410: AiSensy disables a webhook that answers 410. Error bodies never carry internals.
 */
export function createIngestHandler(deps: IngestDependencies) {
  const { queue, logger, metrics, maxBodyBytes, packing } = deps;
  const maxStatuses = deps.maxStatusesPerWebhook ?? 5_000;
  const now = deps.now ?? Date.now;

  async function receive(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
    if (event.httpMethod === 'GET') {
      const credentials = await readCredentials();
      if (!('metaAppSecrets' in credentials)) return credentials;
      const challenge = verificationChallenge(event.queryStringParameters, credentials);
      if (challenge === undefined) throw new RequestError(403, 'verification failed');
      return { statusCode: 200, headers: { 'content-type': 'text/plain' }, body: challenge };
    }
    if (event.httpMethod !== 'POST') throw new RequestError(405, `${event.httpMethod} is not supported here; use POST`);

    const headers = lowerCaseHeaders(event.headers);
    const declaredLength = Number(headers['content-length']);
    if (Number.isFinite(declaredLength) && declaredLength > maxBodyBytes) {
      throw new RequestError(413, `body is ${declaredLength} bytes; the limit is ${maxBodyBytes}`);
    }
    const rawBody = decodeBody(event, maxBodyBytes);

    // Read only now: a refused method or an oversized body costs no secret lookup.
    const credentials = await readCredentials();
    if (!('metaAppSecrets' in credentials)) return credentials;
    if (deps.requireAuth && !hasAnyCredential(credentials)) {
      logger.error('webhook authentication is required but no credential is configured in the webhook secret');
      return json(503, { error: 'webhook authentication is not configured' });
    }
    const auth = authenticateWebhook({ headers, rawBody, pathToken: event.pathParameters?.token }, credentials);
    if (!auth.ok) {
      metrics.addMetric(METRIC.WebhookAuthFailures, MetricUnit.Count, 1);
      throw new RequestError(401, auth.reason);
    }

    const receivedAtMs = event.requestContext?.requestTimeEpoch ?? now();
    // Archived once, after authentication, whatever the answer: started beside the queue send once the format is
    // known, or, when the body is refused (400, 413), before the refusal is answered.
    let archived: Promise<void> | undefined;
    const archiveOnce = (format?: string) => {
      archived ??= archiveWebhook({
        id: (deps.newArchiveId ?? randomUUID)(),
        receivedAtMs,
        requestId: event.requestContext?.requestId,
        format,
        auth: auth.method,
        headers: archivedHeaders(headers),
        body: rawBody,
      });
      return archived;
    };
    try {
      return await accept(event, headers, rawBody, receivedAtMs, auth.method, archiveOnce);
    } finally {
      await archiveOnce();
    }
  }

  async function accept(
    event: APIGatewayProxyEvent,
    headers: Record<string, string | undefined>,
    rawBody: Buffer,
    receivedAtMs: number,
    authMethod: string,
    archiveOnce: (format?: string) => Promise<void>,
  ): Promise<APIGatewayProxyResult> {
    const receipt = deps.statusTimeWindow ? { receivedAtMs, window: deps.statusTimeWindow } : undefined;
    const webhook = normalize(parseJson(rawBody), {
      maxItems: maxStatuses,
      receipt,
      projectId: headers['x-aisensy-project-id'],
    });
    void archiveOnce(webhook.format);
    if (webhook.updates.length + webhook.rejected.length > maxStatuses) {
      throw new RequestError(413, `webhook carries more than ${maxStatuses} statuses`);
    }
    if (webhook.updates.length + webhook.accountEvents.length > 0) {
      try {
        const requestId = event.requestContext?.requestId;
        await queue.send(packQueueMessages(webhook.updates, requestId, packing, webhook.accountEvents));
      } catch (error) {
        // Never the error itself: the logger would copy every field of it, and an SDK error can quote the body.
        logger.error('could not queue the statuses; the provider will retry', {
          error: safeError(error),
          statuses: webhook.updates.length,
        });
        return json(503, { error: 'the status queue is unavailable; retry later' });
      }
    }
    metrics.addMetric(METRIC.StatusesAccepted, MetricUnit.Count, webhook.updates.length);
    metrics.addMetric(METRIC.ItemsRejected, MetricUnit.Count, webhook.rejected.length);
    logger.info('webhook accepted', {
      format: webhook.format,
      auth: authMethod,
      accepted: webhook.updates.length,
      rejected: webhook.rejected.length,
      ...(webhook.accountEvents.length ? { accountEvents: webhook.accountEvents.map((e) => e.field) } : {}),
      ...(webhook.ignored ? { ignored: webhook.ignored } : {}),
    });
    // A reason quotes what the client sent (an unknown status, a bad time), which may hold a phone number: the
    // client gets it as it is, the log masked.
    if (webhook.rejected.length)
      logger.warn('webhook items rejected', {
        rejected: webhook.rejected.slice(0, 20).map((r) => ({ ...r, reason: maskPhoneLike(r.reason) })),
      });
    const response: IngestResponseBody = { accepted: webhook.updates.length, rejected: webhook.rejected };
    if (webhook.accountEvents.length) response.accountEvents = webhook.accountEvents.length;
    if (webhook.ignored) response.ignored = webhook.ignored;
    return json(200, response);
  }

  /** Never rejects: a webhook is answered whatever became of its archive copy, which is counted when lost. */
  async function archiveWebhook(webhook: ArchivedWebhook): Promise<void> {
    if (!deps.archive) return;
    try {
      await deps.archive.put(archiveLines(webhook));
    } catch (error) {
      metrics.addMetric(METRIC.ArchiveFailures, MetricUnit.Count, 1);
      logger.error('could not archive the webhook; its statuses are handled regardless', {
        error: safeError(error),
        archiveId: webhook.id,
        bytes: webhook.body.byteLength,
      });
    }
  }

  /**
   * The credentials in force, or the 503 to answer: failing closed, never open. A secret that holds a blank or
   * non-string credential is a configuration error (logged naming the key); a secret that cannot be read in time
   * (lambdas/domain/ingest-budget.ts) is an outage the provider's retry may outlive.
   */
  async function readCredentials(): Promise<WebhookCredentials | APIGatewayProxyResult> {
    try {
      return await deps.credentials();
    } catch (error) {
      if (error instanceof SecretConfigurationError) {
        logger.error(`webhook authentication is misconfigured, every webhook is refused: ${error.message}`);
        return json(503, { error: 'webhook authentication is not configured' });
      }
      logger.error('could not read the webhook credentials; the provider will retry', { error: safeError(error) });
      return json(503, { error: 'webhook authentication is unavailable; retry later' });
    }
  }

  async function ingestWebhook(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
    try {
      return await receive(event);
    } catch (error) {
      return refuse(error);
    }
  }

  // Powertools' logMetrics middleware publishes what the request measured, once, after it is answered. It wraps this
  // function rather than only handler.ts so that every caller (the Lambda handler, the local run, the alert
  // simulator, the tests) publishes the same way. Outside Lambda there is no context: middy stands in an empty object.
  const withMetrics = middy(ingestWebhook).use(logMetrics(metrics));
  // REST and HTTP API events alike (payload format 1.0 or 2.0): read in the REST shape.
  return (event: ApiGatewayEvent, context?: Context): Promise<APIGatewayProxyResult> =>
    withMetrics(toProxyEvent(event), context as Context);

  function refuse(error: unknown): APIGatewayProxyResult {
    if (error instanceof RequestError) {
      logger.warn('webhook refused', { statusCode: error.statusCode, reason: maskPhoneLike(error.reason) });
      return json(error.statusCode, { error: error.reason });
    }
    // Unexpected: say nothing about internals to the caller; 500 lets the provider retry.
    logger.error('unexpected ingest failure', { error: safeError(error) });
    return json(500, { error: 'internal error' });
  }
}

/** The exact bytes received: base64-decoded when API Gateway says so, bounded by `maxBodyBytes`. */
export function decodeBody(
  event: Pick<APIGatewayProxyEvent, 'body' | 'isBase64Encoded'>,
  maxBodyBytes: number,
): Buffer {
  if (event.body === null || event.body === undefined || event.body === '') {
    throw new RequestError(400, 'body is empty; expected a JSON webhook');
  }
  if (!event.isBase64Encoded && event.body.length > maxBodyBytes) {
    throw new RequestError(413, `body is over the limit of ${maxBodyBytes} bytes`);
  }
  const raw = event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
  if (raw.byteLength > maxBodyBytes) {
    throw new RequestError(413, `body is ${raw.byteLength} bytes; the limit is ${maxBodyBytes}`);
  }
  return raw;
}

function parseJson(raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw new RequestError(400, 'body is not valid JSON');
  }
}

function normalize(body: unknown, options: NormalizeOptions) {
  try {
    return normalizeWebhook(body, options);
  } catch (error) {
    if (error instanceof WebhookFormatError) throw new RequestError(400, error.message);
    if (error instanceof WebhookTooLargeError) throw new RequestError(413, error.message);
    throw error;
  }
}

function lowerCaseHeaders(headers: APIGatewayProxyEvent['headers'] | null): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(headers ?? {})) out[name.toLowerCase()] = value;
  return out;
}

function json(statusCode: number, body: unknown): APIGatewayProxyResult {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}
