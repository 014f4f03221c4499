/**
 * The arithmetic of the analytics section (issue 15, point 5): size labels, the slowest report or alarm query at
 * each size, and the growth from one size to the next. Pure, so a unit test can check the JSON keys it makes.
 */

/** The bench's targets: each report and alarm query under 100 ms at 10M messages, and 10M/1M close to 1. */
export const ANALYTICS_TARGETS = { maxMs: 100, maxRatio: 1.5 } as const;

export interface TimedQuery {
  /** Median of the client's timed runs. */
  medianMs: number;
  /**
   * The server's own time: the median of EXPLAIN ANALYZE's Execution Time over warm runs without per-node timing.
   * The targets judge this figure.
   */
  explainMs: number;
  /** False for queries the targets do not judge (the original guide's own query, the unlimited list views). */
  judged: boolean;
}

/** 1_000_000 -> "1m", 10_000_000 -> "10m", 50_000 -> "50k", 1_500 -> "1500". */
export function sizeLabel(messages: number): string {
  if (messages >= 1_000_000 && messages % 1_000_000 === 0) return `${messages / 1_000_000}m`;
  if (messages >= 1_000 && messages % 1_000 === 0) return `${messages / 1_000}k`;
  return String(messages);
}

/** The slowest judged query (by its server time), or undefined when none is judged. */
export function slowestJudged(queries: Record<string, TimedQuery>): { name: string; serverMs: number } | undefined {
  let slowest: { name: string; serverMs: number } | undefined;
  for (const [name, q] of Object.entries(queries))
    if (q.judged && (!slowest || q.explainMs > slowest.serverMs)) slowest = { name, serverMs: q.explainMs };
  return slowest;
}

/**
 * The JSON keys `analytics_max_ms_<size>` (e.g. analytics_max_ms_1m, analytics_max_ms_10m): the slowest judged
 * query's server time at each size measured.
 */
export function analyticsMaxKeys(bySize: Record<string, Record<string, TimedQuery>>): Record<string, number> {
  const keys: Record<string, number> = {};
  for (const [label, queries] of Object.entries(bySize)) {
    const slowest = slowestJudged(queries);
    if (slowest) keys[`analytics_max_ms_${label}`] = slowest.serverMs;
  }
  return keys;
}

export interface QueryGrowth {
  smallMs: number;
  largeMs: number;
  /** largeMs / smallMs, on the server's time (the client's adds the transfer of the rows). */
  ratio: number;
  underMaxMs: boolean;
  ratioNearOne: boolean;
  judged: boolean;
}

/**
 * Each query's server time at the small and the large size, their ratio, and whether it meets the targets. Server
 * times below 1 ms are compared as 1 ms: a 0.02 ms query that becomes 0.05 ms has not grown in any way that matters.
 */
export function queryGrowth(
  small: Record<string, TimedQuery>,
  large: Record<string, TimedQuery>,
): Record<string, QueryGrowth> {
  const out: Record<string, QueryGrowth> = {};
  for (const [name, big] of Object.entries(large)) {
    const little = small[name];
    if (!little) continue;
    const ratio = Math.max(big.explainMs, 1) / Math.max(little.explainMs, 1);
    out[name] = {
      smallMs: little.explainMs,
      largeMs: big.explainMs,
      ratio,
      underMaxMs: big.explainMs < ANALYTICS_TARGETS.maxMs,
      ratioNearOne: ratio <= ANALYTICS_TARGETS.maxRatio,
      judged: big.judged,
    };
  }
  return out;
}
