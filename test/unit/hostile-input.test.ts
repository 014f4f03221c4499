import { normalizeWebhook, WebhookTooLargeError } from '../../lambdas/domain/normalize-webhook';
import { QueueMessage } from '../../lambdas/domain/queue-message';
import { toStorableJsonObject } from '../../lambdas/domain/storable-text';
import { NO_CREDENTIALS } from '../../lambdas/domain/webhook-auth';
import { createIngestHandler } from '../../lambdas/ingest/ingest-webhook';
import type { StatusQueue } from '../../lambdas/ingest/status-queue';
import { webhookEvent } from '../../testkit/events';
import { flatWebhook, metaStatus, metaWebhook } from '../../testkit/webhooks';
import { quietMetrics, silentLogger } from '../support/powertools';

/**
 * The shapes issue 11 measured (items 6, 7 and 8): each answered 500 or burned seconds of CPU before a 413, and
 * refused the valid statuses beside it. Each must now answer 200 with a reason per bad item, or 413, and never 5xx.
 */

function recordingQueue() {
  const ids: string[] = [];
  const queue: StatusQueue = {
    send: async (requests) => {
      for (const body of requests.flat())
        ids.push(...QueueMessage.parse(JSON.parse(body)).statuses.map((s) => s.message_id));
    },
  };
  return { queue, ids };
}

const ingestWith = (queue: StatusQueue) =>
  createIngestHandler({
    queue,
    logger: silentLogger(),
    metrics: quietMetrics(),
    maxBodyBytes: 1_048_576,
    credentials: () => NO_CREDENTIALS,
    requireAuth: false,
  });

/** `{"a":[[[...1...]]]}`, built as text: JSON.stringify itself could not build it. */
const deeplyNested = (levels: number) => `{"a":${'['.repeat(levels)}1${']'.repeat(levels)}}`;

describe('item 6: deep nesting inside conversation and pricing', () => {
  it.each(['conversation', 'pricing'])(
    'rejects a %s nested 4,500 levels deep with a reason and keeps its neighbours (9 KB body)',
    async (field) => {
      // Arrange: one valid status, then one whose free-form object is 4,500 levels deep.
      const { queue, ids } = recordingQueue();
      const valid = JSON.stringify(metaStatus({ id: 'wamid.valid' }));
      const hostile = JSON.stringify(metaStatus({ id: 'wamid.deep', [field]: '@' })).replace(
        '"@"',
        deeplyNested(4_500),
      );
      const body = JSON.stringify(metaWebhook([])).replace('"statuses":[]', `"statuses":[${valid},${hostile}]`);
      expect(body.length).toBeGreaterThan(9_000);
      // Act
      const response = await ingestWith(queue)(webhookEvent(body));
      // Assert
      expect(response.statusCode).toBe(200);
      expect(JSON.parse(response.body)).toEqual({
        accepted: 1,
        rejected: [{ index: 1, reason: `${field} is nested deeper than 16 levels` }],
      });
      expect(ids).toEqual(['wamid.valid']);
    },
  );

  it('copies a free-form object without recursing past its bound, whatever its depth', () => {
    // 100,000 levels would overflow any recursive walk; the copy stops at the 17th.
    const result = toStorableJsonObject(JSON.parse(deeplyNested(100_000)), { maxDepth: 16 });
    expect(result).toEqual({ ok: false, reason: 'is nested deeper than 16 levels' });
  });

  it('keeps a free-form object at the depth bound exactly', () => {
    const result = toStorableJsonObject(JSON.parse(deeplyNested(15)), { maxDepth: 16 });
    expect(result.ok).toBe(true);
  });
});

describe('item 7: 130,000 array elements in Meta statuses', () => {
  const elements = (n: number) =>
    JSON.stringify(metaWebhook([])).replace('"statuses":[]', `"statuses":[${Array(n).fill('0').join(',')}]`);

  it('answers 413, not 500, to 130,000 statuses in a 260 KB body', async () => {
    const { queue, ids } = recordingQueue();
    const response = await ingestWith(queue)(webhookEvent(elements(130_000)));
    expect(response.statusCode).toBe(413);
    expect(JSON.parse(response.body)).toEqual({ error: 'webhook carries more than 5000 items' });
    expect(ids).toEqual([]);
  });

  it('gathers 130,000 statuses without spreading them onto the stack when the limit allows them', () => {
    // Arrange: the limit raised so that the gathering itself runs (push(...statuses) threw RangeError here).
    const body = JSON.parse(elements(130_000)) as unknown;
    // Act
    const result = normalizeWebhook(body, { maxItems: 200_000 });
    // Assert
    expect(result.updates).toEqual([]);
    expect(result.rejected).toHaveLength(130_000);
    expect(result.rejected[129_999]).toEqual({ index: 129_999, reason: 'expected an object, received number' });
  });
});

describe('item 8: 300,000 empty items', () => {
  it('answers 413 to 300,000 empty items in a 900 KB body', async () => {
    const { queue } = recordingQueue();
    const body = `{"statuses":[${Array(300_000).fill('{}').join(',')}]}`;
    expect(body.length).toBeGreaterThan(900_000);
    const response = await ingestWith(queue)(webhookEvent(body));
    expect(response.statusCode).toBe(413);
  });

  it.each([
    ['flat statuses', (items: unknown[]) => flatWebhook(items)],
    ['Meta statuses', (items: unknown[]) => metaWebhook(items)],
    [
      'Meta changes',
      (items: unknown[]) => ({
        object: 'whatsapp_business_account',
        entry: [{ changes: items.map((item) => ({ field: 'messages', value: { statuses: [item] } })) }],
      }),
    ],
  ])('counts %s before reading a single item', (_name, build) => {
    // Arrange: every item is the same probe, which counts how often any of its fields is read.
    let reads = 0;
    const probe = {};
    for (const key of ['id', 'status', 'timestamp']) {
      Object.defineProperty(probe, key, { enumerable: true, get: () => ++reads });
    }
    const body = build(Array(300_000).fill(probe));
    // Act / Assert
    expect(() => normalizeWebhook(body, { maxItems: 5_000 })).toThrow(WebhookTooLargeError);
    expect(reads).toBe(0);
  });

  it('still parses a webhook of exactly the limit', () => {
    const result = normalizeWebhook(flatWebhook(Array(5_000).fill({})), { maxItems: 5_000 });
    expect(result.rejected).toHaveLength(5_000);
  });
});

describe('the item limit', () => {
  it('accepts a Meta webhook of exactly 5,000 statuses (its entry and change are not statuses)', async () => {
    const { queue, ids } = recordingQueue();
    const statuses = Array.from({ length: 5_000 }, (_, i) => ({
      id: `wamid.${i}`,
      status: 'sent',
      timestamp: '1729670370',
    }));
    const response = await ingestWith(queue)(webhookEvent(metaWebhook(statuses)));
    expect(response.statusCode).toBe(200);
    expect(ids).toHaveLength(5_000);
  });

  it('refuses 5,001 statuses spread over many changes', () => {
    const changes = Array.from({ length: 41 }, () => Array(122).fill({}));
    expect(() => normalizeWebhook(metaWebhook(...changes), { maxItems: 5_000 })).toThrow(WebhookTooLargeError);
  });
});
