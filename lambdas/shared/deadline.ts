/**
 * Runs `work` and rejects with `onTimeout()` once `ms` have passed, aborting `work`'s signal. The work itself may
 * go on in the background (Powertools' secret read takes no signal; its SDK client's own timeouts end it): what
 * matters is that the caller answers in time.
 */
export async function withDeadline<T>(
  ms: number,
  work: (signal: AbortSignal) => Promise<T>,
  onTimeout: () => Error,
): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = onTimeout();
      controller.abort(error);
      reject(error);
    }, ms);
  });
  try {
    return await Promise.race([work(controller.signal), expired]);
  } finally {
    clearTimeout(timer);
  }
}
