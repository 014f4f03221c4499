import { measureChanges } from '../../lambdas/domain/status-metrics';

const t = (s: number) => new Date(Date.UTC(2024, 0, 1, 10, 0, s)).toISOString();

describe('measureChanges', () => {
  it('counts each reported stage that took effect and samples latencies between reported times', () => {
    const result = measureChanges([
      { previous_status: null, status: { sent: t(0), delivered: t(4) }, inferred_stages: [] },
      {
        previous_status: { sent: t(0), delivered: t(2) },
        status: { sent: t(0), delivered: t(2), read: t(32) },
        inferred_stages: [],
      },
    ]);
    expect(result).toEqual({
      appliedByStage: { sent: 1, delivered: 1, read: 1 },
      deliveryLatencySeconds: [4],
      readLatencySeconds: [30],
    });
  });

  it('neither counts nor samples inferred stages', () => {
    const result = measureChanges([
      {
        previous_status: null,
        status: { sent: t(9), delivered: t(9), read: t(9) },
        inferred_stages: ['sent', 'delivered'],
      },
    ]);
    expect(result).toEqual({ appliedByStage: { read: 1 }, deliveryLatencySeconds: [], readLatencySeconds: [] });
  });

  it('counts the real delivered that replaces an inferred one, and samples it', () => {
    const result = measureChanges([
      {
        previous_status: { sent: t(0), delivered: t(9), read: t(9) },
        status: { sent: t(0), delivered: t(3), read: t(9) },
        inferred_stages: [],
      },
    ]);
    expect(result).toEqual({ appliedByStage: { delivered: 1 }, deliveryLatencySeconds: [3], readLatencySeconds: [6] });
  });

  it('adds nothing for a message that did not change', () => {
    expect(measureChanges([])).toEqual({ appliedByStage: {}, deliveryLatencySeconds: [], readLatencySeconds: [] });
  });
});
