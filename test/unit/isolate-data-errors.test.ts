import fc from 'fast-check';
import { applyIsolatingDataErrors } from '../../lambdas/processor/isolate-data-errors';

class DataError extends Error {
  readonly code = '22P05';
}
const isData = (error: unknown) => error instanceof DataError;

/** A store that refuses any call holding a bad item, and records what it stored. */
function fakeStore(bad: ReadonlySet<number>) {
  const stored: number[] = [];
  const apply = async (slice: readonly number[]) => {
    if (slice.some((n) => bad.has(n))) throw new DataError('refused');
    stored.push(...slice);
    return slice.map((n) => n * 10);
  };
  return { stored, apply };
}

describe('applyIsolatingDataErrors', () => {
  it('stores every good item, names every bad one, within 1 + 2·k·log2(n) calls', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 1000 }), fc.array(fc.nat(), { maxLength: 5 }), async (n, picks) => {
        const bad = new Set(picks.map((p) => p % n));
        const { stored, apply } = fakeStore(bad);
        const outcome = await applyIsolatingDataErrors(
          Array.from({ length: n }, (_, i) => i),
          apply,
          isData,
        );
        expect(stored.sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i).filter((i) => !bad.has(i)));
        expect(outcome.unstorable.map((u) => u.item).sort((a, b) => a - b)).toEqual([...bad].sort((a, b) => a - b));
        expect(outcome.results).toHaveLength(n - bad.size);
        expect(outcome.calls).toBeLessThanOrEqual(1 + 2 * bad.size * Math.ceil(Math.log2(n) + 1));
      }),
      { numRuns: 300 },
    );
  });

  it('makes one call when nothing is refused', async () => {
    const { apply } = fakeStore(new Set());
    expect((await applyIsolatingDataErrors([1, 2, 3], apply, isData)).calls).toBe(1);
  });

  it('lets any other error through at once, without retrying halves', async () => {
    let calls = 0;
    const down = async () => {
      calls++;
      throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    };
    await expect(applyIsolatingDataErrors([1, 2, 3, 4], down, isData)).rejects.toThrow('ECONNREFUSED');
    expect(calls).toBe(1);
  });
});
