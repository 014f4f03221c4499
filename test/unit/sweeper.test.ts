import { DEFAULT_ALARMS, DEFAULT_COHORTS } from '../../lambdas/domain/alert-settings';
import type { DeliveryHealth, HealthStore } from '../../lambdas/store/health-store';
import type { SummaryNotifier } from '../../lambdas/sweeper/summary-notifier';
import { createSweeper } from '../../lambdas/sweeper/sweep-delivery-health';
import { healthyFigures } from '../support/delivery-health-figures';
import { capturingMetrics, silentLogger } from '../support/powertools';

const NOW = new Date('2026-03-02T10:30:00.000Z');
const healthy = healthyFigures(NOW);
const spiking: DeliveryHealth = {
  ...healthy,
  cohort_failed: 250,
  failure_rate_percent: 25,
  top_error_code: 131049,
  top_error_title: 'ecosystem',
  top_error_count: 240,
};

/** A store whose figures depend on the time asked for, as delivery_health's do. */
const storeOf = (figures: (asOf: Date) => DeliveryHealth | Error): HealthStore => ({
  deliveryHealth: async (_windows, asOf = NOW) => {
    const f = figures(asOf);
    if (f instanceof Error) throw f;
    return f;
  },
  deliverySummary: async () => {
    throw new Error('database unreachable');
  },
});

function sweeperWith(store: HealthStore, now = NOW) {
  const sent: { subject: string; message: string }[] = [];
  const alertNotifier: SummaryNotifier = { publish: async (subject, message) => void sent.push({ subject, message }) };
  const capture = capturingMetrics();
  const sweep = createSweeper({
    store: () => store,
    metrics: capture.metrics,
    logger: silentLogger(),
    cohorts: DEFAULT_COHORTS,
    failureSpike: DEFAULT_ALARMS.failureSpike,
    alertNotifier,
    runbookUrl: 'https://example.com/runbook.md',
    now: () => now,
  });
  return { sweep, sent, capture };
}

describe('sweeper', () => {
  it('notifies a failure spike once, when it starts, naming the error code and what to do', async () => {
    const started = new Date(NOW.getTime() - 2 * 60_000);
    const { sweep, sent, capture } = sweeperWith(storeOf((asOf) => (asOf >= started ? spiking : healthy)));
    try {
      await sweep({ kind: 'health' });
    } finally {
      capture.restore();
    }
    expect(sent).toHaveLength(1);
    expect(sent[0]!.subject).toBe('[warning] WhatsApp failures: 25 % failed, mostly 131049');
    expect(sent[0]!.message).toMatch(/96 % of the 250 failures carry error 131049 \(ecosystem\)/);
    expect(sent[0]!.message).toMatch(/marketing messages/);
    expect(sent[0]!.message).toMatch(/Runbook: https:\/\/example.com\/runbook.md#failure-spike/);
  });

  it('stays quiet while a spike already notified goes on, and when there is none', async () => {
    for (const figures of [() => spiking, () => healthy]) {
      const { sweep, sent, capture } = sweeperWith(storeOf(figures));
      try {
        await sweep({ kind: 'health' });
      } finally {
        capture.restore();
      }
      expect(sent).toEqual([]);
    }
  });

  it('judges the cohorts as of the start of the minute, so that every window is whole minutes the rollups answer', async () => {
    const asked: string[] = [];
    const store = storeOf((asOf) => {
      asked.push(asOf.toISOString());
      return asked.length === 1 ? spiking : healthy;
    });
    const { sweep, capture } = sweeperWith(store, new Date('2026-03-02T10:30:41.512Z'));
    try {
      await sweep({ kind: 'health' });
    } finally {
      capture.restore();
    }
    // The run's cohorts, then (a spike) the previous run's: both on whole minutes.
    expect(asked).toEqual(['2026-03-02T10:30:00.000Z', '2026-03-02T10:25:00.000Z']);
  });

  it('reports that it ran, and the database error, when the database cannot be reached', async () => {
    const { sweep, capture } = sweeperWith(storeOf(() => new Error('connect ECONNREFUSED')));
    try {
      await expect(sweep({ kind: 'health' })).rejects.toThrow('ECONNREFUSED');
      expect(capture.values('SweeperRuns').map((v) => v.value)).toEqual([1]);
      expect(capture.values('DatabaseErrors').map((v) => v.value)).toEqual([1]);
      expect(capture.values('DeliveryRate')).toEqual([]);
    } finally {
      capture.restore();
    }
  });

  it('counts a daily summary that failed, and fails so EventBridge retries', async () => {
    const { sweep, capture } = sweeperWith(storeOf(() => healthy));
    try {
      await expect(sweep({ kind: 'daily-summary' })).rejects.toThrow('database unreachable');
      expect(capture.values('DailySummaryFailures').map((v) => v.value)).toEqual([1]);
    } finally {
      capture.restore();
    }
  });
});
