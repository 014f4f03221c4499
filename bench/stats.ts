export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
export const median = (values: number[]) => percentile(values, 50);

/** Runs `fn` `times` times (after `warmup` unmeasured runs) and returns each duration in ms. */
export async function sample(
  times: number,
  fn: () => Promise<unknown>,
  warmup = Math.min(20, Math.ceil(times / 10)),
): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < times; i++) {
    const started = performance.now();
    await fn();
    out.push(performance.now() - started);
  }
  return out;
}
