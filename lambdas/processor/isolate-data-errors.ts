/** An item the database refused for its own data, with the error it raised. */
export interface Unstorable<T> {
  item: T;
  error: unknown;
}

export interface IsolationResult<T, R> {
  /** What the successful calls returned, in call order. */
  results: R[];
  /** The items that fail even alone. */
  unstorable: Unstorable<T>[];
  /** Calls made, the first included: 1 when nothing was refused. */
  calls: number;
}

/**
 * Applies `items` in one call; when the call is refused for its data (`isDataError`), halves the slice and tries each
 * half, down to single items, so that the items that can be stored are stored and each one that cannot is named.
 * k bad items among n cost about 2·k·log2(n) extra calls. Any other error (the database unreachable, a timeout)
 * propagates at once: it says nothing about the data, and the caller must let the whole batch be retried.
 * The halves are applied one after the other, so concurrent batches keep taking row locks in a consistent order.
 */
export async function applyIsolatingDataErrors<T, R>(
  items: readonly T[],
  apply: (slice: readonly T[]) => Promise<readonly R[]>,
  isDataError: (error: unknown) => boolean,
): Promise<IsolationResult<T, R>> {
  const result: IsolationResult<T, R> = { results: [], unstorable: [], calls: 0 };
  const attempt = async (slice: readonly T[]): Promise<void> => {
    if (slice.length === 0) return;
    result.calls += 1;
    try {
      for (const row of await apply(slice)) result.results.push(row);
      return;
    } catch (error) {
      if (!isDataError(error)) throw error;
      if (slice.length === 1) {
        result.unstorable.push({ item: slice[0] as T, error });
        return;
      }
    }
    const middle = Math.ceil(slice.length / 2);
    await attempt(slice.slice(0, middle));
    await attempt(slice.slice(middle));
  };
  await attempt(items);
  return result;
}
