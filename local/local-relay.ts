import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { RecipientPolicy } from '../lambdas/domain/status-change-event';
import { drainStatusEvents, RELAY_SETTINGS } from '../lambdas/processor/status-event-relay';
import type { StatusEventSink } from '../lambdas/processor/status-events';
import { safeError } from '../lambdas/shared/log-safe';
import type { StatusEventOutbox } from '../lambdas/store/status-store';

export interface LocalRelayOptions {
  outbox: StatusEventOutbox;
  sink: StatusEventSink;
  recipientPolicy: RecipientPolicy;
  logger: Logger;
  metrics: Metrics;
  /** The backstop: a drain this often even without a kick (entries the file refused come back after the lease). */
  intervalMs?: number;
  /** How long a claim holds its entries locally. @default 5 */
  leaseSeconds?: number;
}

/**
 * `npm start`'s stand-in for the scheduled relay Lambda: the same drainStatusEvents, kicked after every status batch
 * (so an event is in the file right after its batch, as a user sending webhooks expects) and every `intervalMs`.
 * Drains never overlap: a kick during a drain runs one more drain after it.
 */
export function startLocalRelay(options: LocalRelayOptions) {
  const settings = { ...RELAY_SETTINGS, lingerMs: 0, stopMarginMs: 0, leaseSeconds: options.leaseSeconds ?? 5 };
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  const drain = async () => {
    do {
      again = false;
      try {
        await drainStatusEvents(
          {
            outbox: options.outbox,
            sink: options.sink,
            recipientPolicy: options.recipientPolicy,
            logger: options.logger,
            metrics: options.metrics,
          },
          settings,
        );
      } catch (error) {
        options.logger.warn('status-event relay failed; it tries again', { error: safeError(error) });
      }
    } while (again && !stopped);
  };
  const kick = () => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = drain().finally(() => {
      running = undefined;
    });
  };
  const timer = setInterval(kick, options.intervalMs ?? 2_000);
  timer.unref();
  return {
    kick,
    /** Resolves when no drain is running (tests, shutdown). */
    async idle(): Promise<void> {
      while (running) await running;
    },
    /** One last drain, then no more. */
    async stop(): Promise<void> {
      clearInterval(timer);
      while (running) await running;
      kick();
      stopped = true;
      while (running) await running;
    },
  };
}
