import { evaluateHealthAlerts } from '../../lambdas/domain/alert-rules';
import { DEFAULT_ALARMS, DEFAULT_COHORTS } from '../../lambdas/domain/alert-settings';
import { SENDER_METRICS, type SenderHealthSettings } from '../../lambdas/domain/sender-health';
import type { DeliveryHealth, SenderDeliveryHealth } from '../../lambdas/store/health-store';
import type { SummaryNotifier } from '../../lambdas/sweeper/summary-notifier';
import { createSweeper, type SweeperStore } from '../../lambdas/sweeper/sweep-delivery-health';
import { healthyFigures } from '../support/delivery-health-figures';
import { capturingMetrics, silentLogger } from '../support/powertools';

const NOW = new Date('2026-03-02T10:30:00.000Z');
const healthy = healthyFigures(NOW);
/** One number going bad: a third of its messages fail with 131049, its delivery rate falls to 60 %. */
const failing: DeliveryHealth = {
  ...healthy,
  cohort_sent: 300,
  cohort_delivered: 180,
  cohort_failed: 100,
  delivery_rate_percent: 60,
  failure_rate_percent: 33.33,
  top_error_code: 131049,
  top_error_title: 'ecosystem',
  top_error_count: 90,
};
const SENDERS: SenderHealthSettings = [
  { id: '106540352242922', name: 'IN marketing', alarms: true },
  { id: 'aisensy-project-1', name: 'Support project', alarms: false },
];

function storeWith(bySender: (ids: readonly string[], asOf: Date) => SenderDeliveryHealth[]): SweeperStore & {
  calls: string[][];
} {
  const calls: string[][] = [];
  return {
    calls,
    deliveryHealth: async () => healthy,
    deliverySummary: async () => {
      throw new Error('not used');
    },
    deliveryHealthBySender: async (_windows, ids, asOf = NOW) => {
      calls.push([...ids]);
      return bySender(ids, asOf);
    },
  };
}

function run(store: SweeperStore, options: Partial<Parameters<typeof createSweeper>[0]> = {}) {
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
    now: () => NOW,
    ...options,
  });
  return {
    sent,
    capture,
    sweep: async () => {
      try {
        return await sweep({ kind: 'health' });
      } finally {
        capture.restore();
      }
    },
  };
}

describe('sweeper: delivery health per sender', () => {
  it('publishes the alarm figures of each listed sender with its Sender dimension, and nothing per sender otherwise', async () => {
    const store = storeWith((ids) =>
      ids.map((id) => ({ ...(id === SENDERS[0]!.id ? failing : healthy), sender_id: id })),
    );
    const { sweep, capture } = run(store, { senderHealth: SENDERS });
    await sweep();

    expect(store.calls).toEqual([[SENDERS[0]!.id, SENDERS[1]!.id], [SENDERS[0]!.id]]);
    for (const name of Object.keys(SENDER_METRICS)) {
      const perSender = capture.values(name).filter((v) => 'Sender' in v.dimensions);
      expect([name, perSender.map((v) => v.dimensions.Sender)]).toEqual([name, SENDERS.map((s) => s.id)]);
      // Beside the stack's own `service` dimension, which the alarms read too.
      for (const v of perSender) expect(Object.keys(v.dimensions).sort()).toEqual(['Sender', 'service']);
    }
    // Each per-sender figure goes out as it is computed; the run's own metrics when it ends.
    expect(capture.values('DeliveryRate').map((v) => [v.dimensions.Sender, v.value])).toEqual([
      ['106540352242922', 60],
      ['aisensy-project-1', 95],
      [undefined, 95],
    ]);
    // Only the figures the per-sender alarms read are billed per sender: no FailureRate, AvgDeliveryTime... by sender.
    for (const name of ['FailureRate', 'AvgDeliveryTime', 'UndeliveredMessages', 'SweeperRuns'])
      expect(capture.values(name).filter((v) => 'Sender' in v.dimensions)).toEqual([]);
  });

  it('computes and publishes nothing per sender when no sender is listed', async () => {
    const store = storeWith(() => {
      throw new Error('must not be called');
    });
    const { sweep, capture } = run(store);
    await sweep();
    expect(store.calls).toEqual([]);
    expect(capture.documents.some((d) => d._aws.CloudWatchMetrics[0]!.Dimensions.flat().includes('Sender'))).toBe(
      false,
    );
  });

  it("notifies a sender's failure spike once, naming the sender, only for senders with alarms: true", async () => {
    const started = new Date(NOW.getTime() - 2 * 60_000);
    // Both senders spike now; neither did one run ago.
    const store = storeWith((ids, asOf) =>
      ids.map((id) => ({ ...(asOf >= started ? failing : healthy), sender_id: id })),
    );
    const { sweep, sent } = run(store, { senderHealth: SENDERS });
    await sweep();
    expect(sent).toHaveLength(1);
    expect(sent[0]!.subject).toBe(
      '[warning] WhatsApp failures from IN marketing (106540352242922): 33.33 % failed, mostly 131049',
    );
    expect(sent[0]!.message).toMatch(/^Sender IN marketing \(106540352242922\): 33.33 % of 300 recent messages failed/);
    expect(sent[0]!.message).toMatch(/--by sender/);
  });

  it('does not notify a spike of a sender that was already spiking one run ago', async () => {
    const store = storeWith((ids) => ids.map((id) => ({ ...failing, sender_id: id })));
    const { sweep, sent } = run(store, { senderHealth: SENDERS });
    await sweep();
    expect(sent).toEqual([]);
  });

  it('keeps the global figures when the per-sender call fails, and counts a database error', async () => {
    const store = storeWith(() => {
      throw new Error('function delivery_health_by_sender does not exist');
    });
    const { sweep, capture } = run(store, { senderHealth: SENDERS });
    await expect(sweep()).resolves.toMatchObject({ delivery_rate_percent: 95 });
    expect(capture.values('DatabaseErrors').map((v) => v.value)).toEqual([1]);
    expect(capture.values('DeliveryRate').map((v) => v.value)).toEqual([95]);
  });

  it("applies the global alert rules to a sender's figures: the failing number fires, the healthy one does not", () => {
    const fired = (h: DeliveryHealth) =>
      evaluateHealthAlerts(h, DEFAULT_ALARMS)
        .filter((a) => a.fires)
        .map((a) => a.name);
    expect(fired(failing)).toEqual(['deliveryRate', 'failureSpike']);
    expect(fired(healthy)).toEqual([]);
  });
});

describe('sweeper: retention', () => {
  /** A store with `expired` rows to delete, and a clock that advances `msPerCall` with every delete. */
  function retentionStore(expired: number, msPerCall: number) {
    let left = expired;
    let now = 0;
    const batches: number[] = [];
    const cutoffs: string[] = [];
    const store: SweeperStore = {
      deliveryHealth: async () => healthy,
      deliverySummary: async () => {
        throw new Error('not used');
      },
      deleteExpiredMessages: async (olderThan, batchSize) => {
        cutoffs.push(olderThan.toISOString());
        now += msPerCall;
        const n = Math.min(left, batchSize);
        left -= n;
        batches.push(n);
        return n;
      },
      expiredMessagesRemaining: async (_olderThan, upTo) => Math.min(left, upTo),
    };
    return { store, batches, cutoffs, clock: () => now, left: () => left };
  }

  it('deletes in batches until a batch is not full, and publishes RetentionDeletedMessages', async () => {
    const r = retentionStore(2_500, 100);
    const { sweep, capture } = run(r.store, { retention: { days: 90 }, clock: r.clock });
    await sweep();
    expect(r.batches).toEqual([1_000, 1_000, 500]);
    expect(r.cutoffs[0]).toBe('2025-12-02T10:30:00.000Z'); // 90 days before NOW
    expect(capture.values('RetentionDeletedMessages').map((v) => v.value)).toEqual([2_500]);
  });

  it('stops at its time budget and leaves the rest to the next run', async () => {
    const r = retentionStore(50_000, 4_000);
    const { sweep, capture } = run(r.store, { retention: { days: 30, budgetMs: 10_000 }, clock: r.clock });
    await sweep();
    // 0 ms, 4,000 ms, 8,000 ms: three batches start within 10 s; the fourth would start at 12,000 ms.
    expect(r.batches).toEqual([1_000, 1_000, 1_000]);
    expect(r.left()).toBe(47_000);
    expect(capture.values('RetentionDeletedMessages').map((v) => v.value)).toEqual([3_000]);
  });

  it('deletes nothing without retention, and nothing is published for it', async () => {
    const r = retentionStore(10, 1);
    const { sweep, capture } = run(r.store, { clock: r.clock });
    await sweep();
    expect(r.batches).toEqual([]);
    expect(capture.values('RetentionDeletedMessages')).toEqual([]);
  });
});

describe('sweeper: rollup upkeep', () => {
  it('folds the rollups on every health run, after the figures, and a failure costs neither the figures nor the run', async () => {
    const order: string[] = [];
    let fail = false;
    const store: SweeperStore = {
      deliveryHealth: async () => {
        order.push('health');
        return healthy;
      },
      deliverySummary: async () => {
        throw new Error('not used');
      },
      compactRollups: async () => {
        order.push('compact');
        if (fail) throw new Error('connection reset');
        return 1_234;
      },
    };
    const healthyRun = run(store);
    await healthyRun.sweep();
    expect(order).toEqual(['health', 'compact']);
    expect(healthyRun.capture.values('DatabaseErrors')).toEqual([]);

    fail = true;
    const failingRun = run(store);
    await expect(failingRun.sweep()).resolves.toBeDefined();
    expect(order).toEqual(['health', 'compact', 'health', 'compact']);
    expect(failingRun.capture.values('DatabaseErrors').map((v) => v.value)).toEqual([1]);
    expect(failingRun.capture.values('DeliveryRate')).toHaveLength(1);
  });
});
