import { ANALYTICS_QUERIES, reportFunctionsTimed, UNJUDGED_QUERIES } from '../../bench/analytics';
import { ANALYTICS_TARGETS, analyticsMaxKeys, queryGrowth, sizeLabel } from '../../bench/analytics-summary';

/** Issue 15, point 5: the analytics bench's JSON keys and targets, and that it times every report function. */
describe('analytics bench summary', () => {
  const q = (medianMs: number, explainMs = medianMs, judged = true) => ({ medianMs, explainMs, judged });

  it('labels sizes as the JSON keys name them', () => {
    expect([1_000_000, 10_000_000, 50_000, 100_000, 1_500].map(sizeLabel)).toEqual([
      '1m',
      '10m',
      '50k',
      '100k',
      '1500',
    ]);
  });

  it('reports the slowest judged query per size (server time) as analytics_max_ms_<size>, leaving unjudged ones out', () => {
    const keys = analyticsMaxKeys({
      '1m': { a: q(40, 45), b: q(90, 80), c: q(95, 20), guide: q(500, 500, false) },
      '10m': { a: q(35), b: q(400, 380), guide: q(5000, 5000, false) },
    });
    expect(keys).toEqual({ analytics_max_ms_1m: 80, analytics_max_ms_10m: 380 });
  });

  it('compares server times, counting anything under 1 ms as 1 ms, and judges both targets', () => {
    const growth = queryGrowth(
      { flat: q(5, 0.02), linear: q(40, 40), gone: q(1) },
      { flat: q(6, 0.05), linear: q(420, 400), slowClient: q(130, 60), fresh: q(1) },
    );
    expect(Object.keys(growth)).toEqual(['flat', 'linear']);
    expect(growth.flat).toMatchObject({ ratio: 1, underMaxMs: true, ratioNearOne: true });
    expect(growth.linear).toMatchObject({ ratio: 10, underMaxMs: false, ratioNearOne: false });
    // The server's time is judged, not the client's (which adds the transfer of the rows).
    const judged = queryGrowth({ rows: q(50, 40) }, { rows: q(130, 60) });
    expect(judged.rows).toMatchObject({ underMaxMs: true, ratio: 1.5, ratioNearOne: true });
    expect(ANALYTICS_TARGETS.maxMs).toBe(100);
  });

  it('times every function the report calls, and judges the alarm query', () => {
    const untimed = Object.entries(reportFunctionsTimed()).filter(([, queries]) => queries.length === 0);
    expect(untimed).toEqual([]);
    expect(ANALYTICS_QUERIES.delivery_health).toMatch(/delivery_health\(/);
    expect(UNJUDGED_QUERIES.has('delivery_health')).toBe(false);
    for (const name of UNJUDGED_QUERIES) expect(ANALYTICS_QUERIES).toHaveProperty(name);
  });
});
