import { packQueueMessages, QueueMessage, SQS_MAX_ENTRIES_PER_BATCH } from '../../lambdas/domain/queue-message';
import type { StatusUpdate } from '../../lambdas/domain/status-update';

const updates = (n: number): StatusUpdate[] =>
  Array.from({ length: n }, (_, i) => ({
    message_id: `wamid.${i}`,
    status: 'delivered',
    timestamp: '2024-01-01T10:00:00.000Z',
    phone_number: '+919876543210',
  }));

describe('packQueueMessages', () => {
  it('packs 1,000 statuses into requests of at most 10 messages within the size limits, losing none', () => {
    const requests = packQueueMessages(updates(1000), 'req-1', {
      maxStatusesPerMessage: 100,
      maxMessageBytes: 262_144,
    });
    const bodies = requests.flat();
    expect(requests.every((r) => r.length <= SQS_MAX_ENTRIES_PER_BATCH)).toBe(true);
    expect(requests.every((r) => r.reduce((sum, b) => sum + Buffer.byteLength(b), 0) <= 262_144)).toBe(true);
    const statuses = bodies.flatMap((b) => QueueMessage.parse(JSON.parse(b)).statuses);
    expect(statuses.map((s) => s.message_id)).toEqual(updates(1000).map((s) => s.message_id));
    expect(bodies).toHaveLength(10);
  });

  it('splits by bytes when the message size limit is small', () => {
    const requests = packQueueMessages(updates(50), undefined, { maxStatusesPerMessage: 100, maxMessageBytes: 2_000 });
    for (const request of requests) {
      expect(request.reduce((sum, b) => sum + Buffer.byteLength(b), 0)).toBeLessThanOrEqual(2_000);
      for (const body of request) expect(Buffer.byteLength(body)).toBeLessThanOrEqual(2_000);
    }
    expect(requests.flat().flatMap((b) => JSON.parse(b).statuses)).toHaveLength(50);
  });

  it('counts the escaped size of characters SQS refuses raw (U+FFFE: 3 bytes raw, 6 escaped), staying within the limit', () => {
    const noncharacters = updates(40).map((u) => ({ ...u, campaign: '\ufffe\uffff'.repeat(20) }));
    const requests = packQueueMessages(noncharacters, undefined, {
      maxStatusesPerMessage: 100,
      maxMessageBytes: 2_000,
    });
    for (const request of requests) {
      expect(request.reduce((sum, b) => sum + Buffer.byteLength(b), 0)).toBeLessThanOrEqual(2_000);
      for (const body of request) expect(body).not.toMatch(/[\ufffe\uffff]/);
    }
    const statuses = requests.flat().flatMap((b) => QueueMessage.parse(JSON.parse(b)).statuses);
    expect(statuses).toEqual(noncharacters);
  });

  it('carries the correlation id in every message', () => {
    const [request] = packQueueMessages(updates(3), 'abc', { maxStatusesPerMessage: 1 });
    expect(request?.map((b) => JSON.parse(b).correlation_id)).toEqual(['abc', 'abc', 'abc']);
  });

  it('returns no request for no statuses', () => {
    expect(packQueueMessages([], 'x')).toEqual([]);
  });
});
