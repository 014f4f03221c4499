import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DEFAULT_ALARMS, DEFAULT_COHORTS } from '../../lambdas/domain/alert-settings';
import type { StatusUpdate } from '../../lambdas/domain/status-update';
import { NO_CREDENTIALS } from '../../lambdas/domain/webhook-auth';
import { createIngestHandler } from '../../lambdas/ingest/ingest-webhook';
import { createStatusBatchProcessor } from '../../lambdas/processor/process-status-batch';
import { PoisonRecordError, parseStatusRecord } from '../../lambdas/processor/record-body';
import type { RetryDelay } from '../../lambdas/processor/retry-queue';
import { metricsNotices } from '../../lambdas/shared/powertools';
import type { AppliedChange, StatusStore } from '../../lambdas/store/status-store';
import { createSweeper } from '../../lambdas/sweeper/sweep-delivery-health';
import { sqsEvent, sqsRecord, webhookEvent } from '../../testkit/events';
import { metaStatus, metaWebhook } from '../../testkit/webhooks';
import { capturingMetrics, silentLogger } from '../support/powertools';
import { update } from '../support/status-rows';

const body = (...statuses: StatusUpdate[]) => JSON.stringify({ v: 1, correlation_id: 'req-1', statuses });

/** A store that records each call; `refuse` names message ids the "database" refuses for their data (SQLSTATE 22P05). */
function recordingStore(options: { refuse?: string[]; down?: boolean } = {}): StatusStore & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    recordAccountEvents: async () => [],
    async applyStatusUpdates(updates) {
      calls.push(updates.map((u) => u.message_id));
      if (options.down) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
      if (updates.some((u) => options.refuse?.includes(u.message_id)))
        throw Object.assign(new Error('unsupported Unicode escape sequence'), { code: '22P05' });
      return updates.map(
        (u): AppliedChange => ({
          message_id: u.message_id,
          inserted: true,
          previous_status: null,
          status: { [u.status]: u.timestamp },
          inferred_stages: [],
        }),
      );
    },
    close: async () => undefined,
  };
}

describe('processor on Powertools batch (processPartialResponse + one bulk write)', () => {
  it('reports a malformed body as a batch item failure and stores its neighbours in ONE call', async () => {
    const store = recordingStore();
    const process = createStatusBatchProcessor({
      store: () => store,
      logger: silentLogger(),
      metrics: new Metrics({ logger: silentLogger() }),
    });
    const response = await process(
      sqsEvent(
        sqsRecord(body(update('m1', 'sent', 0), update('m2', 'sent', 1)), 'good-1'),
        sqsRecord('{"v":1,"statuses":[', 'truncated'),
        sqsRecord(JSON.stringify({ v: 2, statuses: [update('m9', 'sent', 0)] }), 'future-version'),
        sqsRecord(body(update('m3', 'read', 2)), 'good-2'),
      ),
    );
    expect(response).toEqual({
      batchItemFailures: [{ itemIdentifier: 'truncated' }, { itemIdentifier: 'future-version' }],
    });
    expect(store.calls).toEqual([['m1', 'm2', 'm3']]);
  });

  it('adds the records the database refuses, by message id, after the parse failures; the rest stay stored', async () => {
    const store = recordingStore({ refuse: ['bad'] });
    const process = createStatusBatchProcessor({
      store: () => store,
      logger: silentLogger(),
      metrics: new Metrics({ logger: silentLogger() }),
    });
    const response = await process(
      sqsEvent(
        sqsRecord(body(update('m1', 'sent', 0)), 'r1'),
        sqsRecord(body(update('bad', 'sent', 0)), 'r2'),
        sqsRecord('garbage', 'r3'),
        sqsRecord(body(update('m4', 'sent', 0)), 'r4'),
      ),
    );
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'r3' }, { itemIdentifier: 'r2' }] });
    // One call for the batch, then the bisection: [m1, bad] -> [m1] stored, [bad] refused alone; [m4] stored.
    expect(store.calls[0]).toEqual(['m1', 'bad', 'm4']);
    expect(store.calls.filter((c) => c.length === 1 && c[0] === 'bad')).toHaveLength(1);
    expect(store.calls.flat().filter((id) => id === 'm1' || id === 'm4').length).toBeGreaterThanOrEqual(2);
  });

  it('answers a batch of nothing but poison records with all of them, without throwing and without a database call', async () => {
    const store = recordingStore();
    const process = createStatusBatchProcessor({
      store: () => store,
      logger: silentLogger(),
      metrics: new Metrics({ logger: silentLogger() }),
    });
    const response = await process(sqsEvent(sqsRecord('', 'p1'), sqsRecord('null', 'p2')));
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'p1' }, { itemIdentifier: 'p2' }]);
    expect(store.calls).toEqual([]);
  });

  it('keeps concurrent invocations apart (the local run and the simulator call it concurrently)', async () => {
    const store = recordingStore();
    const process = createStatusBatchProcessor({
      store: () => store,
      logger: silentLogger(),
      metrics: new Metrics({ logger: silentLogger() }),
    });
    const [a, b] = await Promise.all([
      process(sqsEvent(sqsRecord(body(update('a1', 'sent', 0)), 'a-ok'), sqsRecord('x', 'a-bad'))),
      process(sqsEvent(sqsRecord('y', 'b-bad'), sqsRecord(body(update('b1', 'sent', 0)), 'b-ok'))),
    ]);
    expect(a).toEqual({ batchItemFailures: [{ itemIdentifier: 'a-bad' }] });
    expect(b).toEqual({ batchItemFailures: [{ itemIdentifier: 'b-bad' }] });
    expect(store.calls.sort()).toEqual([['a1'], ['b1']]);
  });

  it('backs off only the parsed records when the database is down, and throws', async () => {
    const asked: RetryDelay[][] = [];
    const process = createStatusBatchProcessor({
      store: () => recordingStore({ down: true }),
      logger: silentLogger(),
      metrics: new Metrics({ logger: silentLogger() }),
      outageRetries: {
        queue: { delayRetries: async (d) => void asked.push([...d]) },
        backoff: { baseSeconds: 60, maxSeconds: 600 },
      },
    });
    await expect(
      process(sqsEvent(sqsRecord(body(update('m1', 'sent', 0)), 'ok'), sqsRecord('not json', 'poison'))),
    ).rejects.toThrow(/could not be stored/);
    expect(asked).toEqual([[{ messageId: 'ok', receiptHandle: 'rh-ok', delaySeconds: 60 }]]);
  });
});

describe('the SQS record body schema', () => {
  it.each([
    ['not JSON', 'not json', /body is not JSON/],
    ['an array', '[]', /not a status message/],
    ['no statuses', '{"v":1,"statuses":[]}', /statuses/],
    ['another version', '{"v":2,"statuses":[]}', /\bv\b/],
  ])('refuses %s with a PoisonRecordError naming the problem', (_label, text, reason) => {
    expect(() => parseStatusRecord({ body: text })).toThrow(PoisonRecordError);
    expect(() => parseStatusRecord({ body: text })).toThrow(reason);
  });

  it('reads a queue message', () => {
    expect(parseStatusRecord({ body: body(update('m1', 'sent', 0)) })).toMatchObject({
      v: 1,
      correlation_id: 'req-1',
      statuses: [{ message_id: 'm1' }],
    });
  });
});

/**
 * logMetrics (Powertools' middy middleware) publishes once per invocation, including when the handler throws: counted
 * on the instance the handler measures into (singleMetric() documents are separate instances and publish at once).
 */
describe('metrics published by logMetrics, once per invocation', () => {
  const flushesOf = (metrics: Metrics) => jest.spyOn(metrics, 'publishStoredMetrics');

  it('processor: once for a stored batch, once when the database is down (with DatabaseErrors)', async () => {
    const capture = capturingMetrics();
    try {
      const flushes = flushesOf(capture.metrics);
      const ok = createStatusBatchProcessor({
        store: () => recordingStore(),
        logger: silentLogger(),
        metrics: capture.metrics,
      });
      await ok(sqsEvent(sqsRecord(body(update('m1', 'sent', 0))), sqsRecord('poison')));
      expect(flushes).toHaveBeenCalledTimes(1);
      expect(capture.values('StatusesReceived').map((v) => v.value)).toEqual([1]);
      expect(capture.values('PoisonRecords').map((v) => v.value)).toEqual([1]);

      const down = createStatusBatchProcessor({
        store: () => recordingStore({ down: true }),
        logger: silentLogger(),
        metrics: capture.metrics,
      });
      await expect(down(sqsEvent(sqsRecord(body(update('m2', 'sent', 0)))))).rejects.toThrow(/could not be stored/);
      expect(flushes).toHaveBeenCalledTimes(2);
      expect(capture.values('DatabaseErrors').map((v) => v.value)).toEqual([1]);
      expect(capture.values('DatabaseCallDuration')).toHaveLength(2);
      // Nothing left behind for the next invocation.
      expect(capture.metrics.hasStoredMetrics()).toBe(false);
    } finally {
      capture.restore();
    }
  });

  it('sweeper: once per run, also when the run throws', async () => {
    const capture = capturingMetrics();
    try {
      const flushes = flushesOf(capture.metrics);
      const sweep = createSweeper({
        store: () => ({
          deliveryHealth: async () => Promise.reject(new Error('connect ECONNREFUSED')),
          deliverySummary: async () => Promise.reject(new Error('connect ECONNREFUSED')),
        }),
        metrics: capture.metrics,
        logger: silentLogger(),
        cohorts: DEFAULT_COHORTS,
        failureSpike: DEFAULT_ALARMS.failureSpike,
      });
      await expect(sweep({ kind: 'health' })).rejects.toThrow('ECONNREFUSED');
      expect(flushes).toHaveBeenCalledTimes(1);
      await expect(sweep({ kind: 'daily-summary' })).rejects.toThrow('ECONNREFUSED');
      expect(flushes).toHaveBeenCalledTimes(2);
      expect(capture.values('SweeperRuns').map((v) => v.value)).toEqual([1]);
      expect(capture.values('DatabaseErrors').map((v) => v.value)).toEqual([1, 1]);
      expect(capture.values('DailySummaryFailures').map((v) => v.value)).toEqual([1]);
    } finally {
      capture.restore();
    }
  });

  it('ingest: once per request, accepted or refused; a refused request publishes no EMF document', async () => {
    const capture = capturingMetrics();
    try {
      const flushes = flushesOf(capture.metrics);
      const ingest = createIngestHandler({
        queue: { send: async () => undefined },
        logger: silentLogger(),
        metrics: capture.metrics,
        maxBodyBytes: 1e6,
        credentials: () => NO_CREDENTIALS,
        requireAuth: false,
      });
      expect((await ingest(webhookEvent(metaWebhook([metaStatus()])))).statusCode).toBe(200);
      expect(flushes).toHaveBeenCalledTimes(1);
      expect(capture.documents).toHaveLength(1);
      expect((await ingest(webhookEvent('this is not json'))).statusCode).toBe(400);
      expect(flushes).toHaveBeenCalledTimes(2);
      expect(capture.documents).toHaveLength(1);
      expect(capture.values('StatusesAccepted').map((v) => v.value)).toEqual([1]);
    } finally {
      capture.restore();
    }
  });
});

describe("Metrics' own notices (metricsNotices)", () => {
  it('keeps the expected empty-flush notice at DEBUG and every other notice at its level', () => {
    const log = new Logger({ logLevel: 'SILENT' });
    const debug = jest.spyOn(log, 'debug');
    const warn = jest.spyOn(log, 'warn');
    const metrics = new Metrics({ namespace: 'Test', serviceName: 'test', logger: metricsNotices(log) });

    metrics.publishStoredMetrics(); // what logMetrics does after a refused webhook: nothing measured
    expect(debug).toHaveBeenCalledWith(expect.stringMatching(/^No application metrics to publish/));
    expect(warn).not.toHaveBeenCalled();

    metrics.addDimension('', 'value'); // a real mistake: still a warning
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/dimension/));
  });
});
