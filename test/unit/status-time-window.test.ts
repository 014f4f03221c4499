import { normalizeWebhook } from '../../lambdas/domain/normalize-webhook';
import { QueueMessage } from '../../lambdas/domain/queue-message';
import { DEFAULT_STATUS_TIME_WINDOW, parseProviderTimestamp } from '../../lambdas/domain/timestamps';
import { NO_CREDENTIALS } from '../../lambdas/domain/webhook-auth';
import { createIngestHandler } from '../../lambdas/ingest/ingest-webhook';
import type { StatusQueue } from '../../lambdas/ingest/status-queue';
import { IngestEnv, readEnv } from '../../lambdas/shared/env';
import { webhookEvent } from '../../testkit/events';
import { aisensyMessage, aisensyWebhook, flatWebhook, isoAt, T0_SECONDS } from '../../testkit/webhooks';
import { quietMetrics, silentLogger } from '../support/powertools';

/**
 * Issue 11, item 9: with earliest-wins a forged early time is permanent (`read` planted in 2009 could never be
 * corrected), and impossible dates were accepted (`2024-02-30` became March 1). Every test here receives its
 * webhook at a fixed time, one minute after the fixtures' T0.
 */
const RECEIVED_MS = (T0_SECONDS + 60) * 1000;
const DAY_S = 86_400;

function recordingQueue() {
  const statuses: { id: string; status: string; timestamp: string }[] = [];
  const queue: StatusQueue = {
    send: async (requests) => {
      for (const body of requests.flat()) {
        for (const s of QueueMessage.parse(JSON.parse(body)).statuses)
          statuses.push({ id: s.message_id, status: s.status, timestamp: s.timestamp });
      }
    },
  };
  return { queue, statuses };
}

const ingestWith = (queue: StatusQueue, window = DEFAULT_STATUS_TIME_WINDOW) =>
  createIngestHandler({
    queue,
    logger: silentLogger(),
    metrics: quietMetrics(),
    maxBodyBytes: 1e6,
    credentials: () => NO_CREDENTIALS,
    requireAuth: false,
    statusTimeWindow: window,
    now: () => RECEIVED_MS,
  });

describe('status times far from the receipt', () => {
  it('rejects, each with a reason, times 31 days before, in 2009, in 2199 and 6 minutes after the receipt; keeps the valid neighbours', async () => {
    // Arrange
    const { queue, statuses } = recordingQueue();
    const body = flatWebhook([
      { id: 'wamid.ok-now', status: 'sent', timestamp: String(T0_SECONDS) },
      { id: 'wamid.forged', status: 'read', timestamp: String(T0_SECONDS - 31 * DAY_S) },
      { id: 'wamid.2009', status: 'read', timestamp: '2009-01-02T00:00:00Z' },
      { id: 'wamid.ok-29-days', status: 'delivered', timestamp: String(T0_SECONDS - 29 * DAY_S) },
      { id: 'wamid.2199', status: 'read', timestamp: '2199-12-31T00:00:00Z' },
      { id: 'wamid.ahead', status: 'read', timestamp: String(T0_SECONDS + 60 + 6 * 60) },
      { id: 'wamid.ok-4-min-ahead', status: 'read', timestamp: String(T0_SECONDS + 60 + 4 * 60) },
    ]);
    // Act
    const response = await ingestWith(queue)(webhookEvent(body));
    // Assert
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toEqual({
      accepted: 3,
      rejected: [
        {
          index: 1,
          reason: `timestamp ${isoAt(T0_SECONDS - 31 * DAY_S)} is more than 30 days before the webhook was received`,
        },
        { index: 2, reason: 'timestamp 2009-01-02T00:00:00.000Z is more than 30 days before the webhook was received' },
        {
          index: 4,
          reason: 'timestamp 2199-12-31T00:00:00.000Z is more than 5 minutes after the webhook was received',
        },
        {
          index: 5,
          reason: `timestamp ${isoAt(T0_SECONDS + 60 + 6 * 60)} is more than 5 minutes after the webhook was received`,
        },
      ],
    });
    expect(statuses.map((s) => s.id)).toEqual(['wamid.ok-now', 'wamid.ok-29-days', 'wamid.ok-4-min-ahead']);
  });

  it("measures from API Gateway's requestTimeEpoch when the event has one", async () => {
    const { queue, statuses } = recordingQueue();
    const event = webhookEvent(
      flatWebhook([{ id: 'wamid.old', status: 'sent', timestamp: String(T0_SECONDS - 40 * DAY_S) }]),
    );
    event.requestContext.requestTimeEpoch = (T0_SECONDS - 39 * DAY_S) * 1000;
    await ingestWith(queue)(event);
    expect(statuses.map((s) => s.id)).toEqual(['wamid.old']);
  });

  it('takes its bounds from the configuration', async () => {
    const { queue } = recordingQueue();
    const tight = { maxPastMs: 3_600_000, maxFutureMs: 1_000 };
    const response = await ingestWith(
      queue,
      tight,
    )(webhookEvent(flatWebhook([{ id: 'w', status: 'sent', timestamp: String(T0_SECONDS - 7200) }])));
    expect(JSON.parse(response.body).rejected).toEqual([
      { index: 0, reason: expect.stringContaining('more than 60 minutes before') },
    ]);
  });

  it('configures 30 days before and 300 s after the receipt by default in the Lambda', () => {
    const env = readEnv(IngestEnv, {
      QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/1/q',
      WEBHOOK_SECRET_ID: 'tracker/webhook',
    });
    expect([env.MAX_STATUS_AGE_DAYS * 86_400_000, env.MAX_STATUS_AHEAD_SECONDS * 1000]).toEqual([
      DEFAULT_STATUS_TIME_WINDOW.maxPastMs,
      DEFAULT_STATUS_TIME_WINDOW.maxFutureMs,
    ]);
    expect(DEFAULT_STATUS_TIME_WINDOW).toEqual({ maxPastMs: 30 * 86_400_000, maxFutureMs: 300_000 });
  });

  it('rejects an implausible stage of an AiSensy notification alone, applying its other stages', async () => {
    const { queue, statuses } = recordingQueue();
    const message = aisensyMessage({
      status: 'READ',
      sent_at: (T0_SECONDS - 40 * DAY_S) * 1000,
      delivered_at: T0_SECONDS * 1000,
      read_at: (T0_SECONDS + 30) * 1000,
    });
    const response = await ingestWith(queue)(webhookEvent(aisensyWebhook(message)));
    expect(JSON.parse(response.body)).toEqual({
      accepted: 2,
      rejected: [
        {
          index: 0,
          reason: `sent_at: timestamp ${isoAt(T0_SECONDS - 40 * DAY_S)} is more than 30 days before the webhook was received`,
        },
      ],
    });
    expect(statuses.map((s) => s.status)).toEqual(['delivered', 'read']);
  });
});

describe('impossible dates', () => {
  it.each([
    '2024-02-30T10:00:00Z',
    '2023-02-29T00:00:00Z',
    '2024-04-31T00:00:00Z',
    '2024-13-01T00:00:00Z',
    '2024-00-10T00:00:00Z',
    '2024-01-01T24:00:00Z',
    '2024-01-01T10:60:00Z',
    '2024-01-01T10:00:60Z',
  ])('rejects %s instead of rolling it over', (value) => {
    expect(parseProviderTimestamp(value)).toEqual({
      ok: false,
      unset: false,
      reason: `timestamp "${value}" is not a real date and time`,
    });
  });

  it.each([
    ['2024-02-29T10:00:00Z', '2024-02-29T10:00:00.000Z'],
    ['2024-12-31T23:59:59.999+05:30', '2024-12-31T18:29:59.999Z'],
  ])('accepts the real date %s', (value, iso) => {
    expect(parseProviderTimestamp(value)).toEqual({ ok: true, iso });
  });

  it('rejects the impossible date with a reason per item and keeps the valid neighbour', () => {
    const result = normalizeWebhook(
      flatWebhook([
        { id: 'wamid.feb30', status: 'read', timestamp: '2024-02-30T10:00:00Z' },
        { id: 'wamid.ok', status: 'read', timestamp: '2024-02-29T10:00:00Z' },
      ]),
    );
    expect(result.updates.map((u) => u.message_id)).toEqual(['wamid.ok']);
    expect(result.rejected).toEqual([
      { index: 0, reason: 'timestamp "2024-02-30T10:00:00Z" is not a real date and time' },
    ]);
  });

  it('reports an impossible AiSensy stage time instead of dropping it silently', () => {
    const result = normalizeWebhook(
      aisensyWebhook(aisensyMessage({ status: 'DELIVERED', read_at: '2024-02-30T10:00:00Z' })),
    );
    expect(result.updates.map((u) => u.status)).toEqual(['sent', 'delivered']);
    expect(result.rejected).toEqual([
      { index: 0, reason: 'read_at: timestamp "2024-02-30T10:00:00Z" is not a real date and time' },
    ]);
  });
});
