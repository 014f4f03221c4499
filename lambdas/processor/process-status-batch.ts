import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { METRIC } from '../domain/metric-names';
import { type OutageBackoff, outageRetryDelaySeconds } from '../domain/outage-backoff';
import type { QueueMessage } from '../domain/queue-message';
import { measureChanges } from '../domain/status-metrics';
import type { StatusUpdate } from '../domain/status-update';
import { safeError } from '../shared/log-safe';
import { type AppliedChange, isDataError, type StatusStore } from '../store/status-store';
import type { AccountNotifier } from './account-notifier';
import { applyIsolatingDataErrors, type IsolationResult } from './isolate-data-errors';
import { recordAccountEvents } from './record-account-events';
import { parseStatusRecord } from './record-body';
import type { RetryQueue } from './retry-queue';

export { PoisonRecordError } from './record-body';

export interface ProcessorDependencies {
  /** Resolved lazily so a cold start does not open a connection before the first batch needs it. */
  store: () => Promise<StatusStore> | StatusStore;
  logger: Logger;
  /** Receives the batch's metrics (EMF); Powertools' logMetrics middleware publishes them once per invocation. */
  metrics: Metrics;
  /** Milliseconds on a monotonic clock, for call durations (the alert simulator passes its own). */
  clock?: () => number;
  /**
   * When the database is unreachable, the batch's messages are hidden for a doubling wait (outage-backoff.ts) so that
   * `maxReceiveCount` receives outlast a long outage. Without it, SQS's visibility timeout alone sets the pace and an
   * outage longer than maxReceiveCount × that timeout dead-letters everything.
   */
  outageRetries?: { queue: RetryQueue; backoff: OutageBackoff };
  /**
   * Status-change events (docs/events.md): when true, the batch is applied with the store's
   * applyStatusUpdatesWithEvents, which writes one outbox entry per changed message in the batch's transaction; the
   * relay (status-event-relay.ts) puts them on the bus. The batch never waits for EventBridge. Unset: the plain write.
   */
  statusEvents?: boolean;
  /** Where critical and warning account or template events are sent (the alert topics). Unset: logged only. */
  accountNotifier?: AccountNotifier;
}

/**
 * The batch could not be stored for a reason that is not its data (the database unreachable, a timeout): thrown so
 * that SQS makes the whole batch visible again. Carries only what may be logged (see log-safe.ts): the Lambda
 * runtime and the local poller log what is thrown.
 */
export class BatchNotStoredError extends Error {
  override readonly name = 'BatchNotStoredError';
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

/** One status update and the SQS record it came in. */
interface RecordedUpdate {
  update: StatusUpdate;
  /** The SQS message id: what `batchItemFailures` names. */
  recordId: string;
  /** The update's position in its record's `statuses`. */
  index: number;
}

/**
 * The processor Lambda's logic: SQS batch -> validate each record -> one database call for the whole batch ->
 * partial batch response. A record that cannot be parsed is reported in `batchItemFailures` (SQS retries it, then
 * moves it to the DLQ). When the database refuses the call for the data of some updates (SQLSTATE class 22, 23 or
 * 54), the batch is bisected: every update that can be stored is stored, and only the records holding an update
 * that fails even alone are reported, each with the reason logged. Any other database error (the database
 * unreachable) throws, so the whole batch returns to the queue and nothing is lost; with `outageRetries`, its messages
 * first get a doubling wait before their next receive, so that a long outage costs delay, not dead letters.
 */
export function createStatusBatchProcessor(deps: ProcessorDependencies) {
  const { logger, metrics } = deps;
  const clock = deps.clock ?? (() => performance.now());
  /**
   * The database is unreachable: hides every message that holds statuses for a wait that doubles with its receive
   * count. Records that failed for their own reasons (not a status message) are left out: they keep the queue's plain
   * visibility timeout and reach the DLQ after maxReceiveCount receives, without waiting out an outage backoff.
   * A failure here only costs the backoff (the message returns after the plain timeout): logged, never thrown.
   */
  async function backOff(records: readonly SQSRecord[]): Promise<void> {
    const retries = deps.outageRetries;
    if (!retries || records.length === 0) return;
    const delays = records.map((record) => ({
      messageId: record.messageId,
      receiptHandle: record.receiptHandle,
      delaySeconds: outageRetryDelaySeconds(Number(record.attributes.ApproximateReceiveCount), retries.backoff),
    }));
    try {
      await retries.queue.delayRetries(delays);
      logger.warn('database unreachable: the batch waits before its next receive', {
        records: records.length,
        delaySeconds: [...new Set(delays.map((d) => d.delaySeconds))],
      });
    } catch (error) {
      logger.error('the backoff could not be set; the batch returns after the visibility timeout', {
        error: safeError(error),
      });
    }
  }

  /** Applies the updates, bisecting around those the database refuses; returns the ids of the records to fail. */
  async function applyAndMeasure(
    recorded: RecordedUpdate[],
    records: number,
    correlationIds: string[],
  ): Promise<Set<string>> {
    const store = await deps.store();
    const events = deps.statusEvents;
    if (events && !store.applyStatusUpdatesWithEvents)
      throw new Error('status-change events need a store with applyStatusUpdatesWithEvents');
    const apply = async (slice: readonly RecordedUpdate[]): Promise<AppliedChange[]> => {
      const started = clock();
      const updates = slice.map((r) => r.update);
      try {
        return events && store.applyStatusUpdatesWithEvents
          ? await store.applyStatusUpdatesWithEvents(updates)
          : await store.applyStatusUpdates(updates);
      } finally {
        metrics.addMetric(METRIC.DatabaseCallDuration, MetricUnit.Milliseconds, Math.round(clock() - started));
      }
    };
    let outcome: IsolationResult<RecordedUpdate, AppliedChange>;
    try {
      outcome = await applyIsolatingDataErrors(recorded, apply, isDataError);
    } catch (error) {
      // Not the data's fault: Lambda fails the invocation and SQS makes the whole batch visible again.
      metrics.addMetric(METRIC.DatabaseErrors, MetricUnit.Count, 1);
      const safe = safeError(error);
      logger.error('the batch could not be stored; SQS will deliver it again', {
        error: safe,
        records,
        statuses: recorded.length,
      });
      throw new BatchNotStoredError(`the batch could not be stored: ${safe.message}`, safe.code);
    }
    const failedRecords = new Set<string>();
    for (const { item, error } of outcome.unstorable) {
      failedRecords.add(item.recordId);
      // Names the update without its content: the WhatsApp message id and stage, never the phone number.
      logger.error('a status update cannot be stored; its queue message fails alone', {
        sqsMessageId: item.recordId,
        statusIndex: item.index,
        messageId: item.update.message_id.slice(0, 200),
        status: item.update.status,
        error: safeError(error),
      });
    }
    if (outcome.unstorable.length)
      metrics.addMetric(METRIC.DatabaseErrors, MetricUnit.Count, outcome.unstorable.length);
    const changes = outcome.results;
    const updates = recorded.length - outcome.unstorable.length;
    metrics.addMetric(METRIC.StatusesReceived, MetricUnit.Count, updates);
    const measured = measureChanges(changes);
    for (const seconds of measured.deliveryLatencySeconds)
      metrics.addMetric(METRIC.DeliveryLatency, MetricUnit.Seconds, seconds);
    for (const seconds of measured.readLatencySeconds)
      metrics.addMetric(METRIC.ReadLatency, MetricUnit.Seconds, seconds);
    for (const [stage, count] of Object.entries(measured.appliedByStage)) {
      const single = metrics.singleMetric();
      single.addDimension('Status', stage);
      single.addMetric(METRIC.StatusesApplied, MetricUnit.Count, count);
    }
    logger.info('batch applied', {
      // The webhook requests (API Gateway request ids) these statuses came from: search the ingest logs by them.
      correlationIds,
      records,
      statuses: updates,
      changedMessages: changes.length,
      insertedMessages: changes.filter((c) => c.inserted).length,
      ...(outcome.unstorable.length
        ? { unstorableStatuses: outcome.unstorable.length, databaseCalls: outcome.calls }
        : {}),
    });
    return failedRecords;
  }

  /**
   * One invocation, in two passes.
   *
   * 1. Powertools' `processPartialResponse` runs the record handler on each record: it parses the body (record-body.ts)
   *    and keeps the message together with the record it was given, or throws, and Powertools reports that record in
   *    `batchItemFailures`. Nothing is read back from the processor's internals (its errors, its per-record outcomes).
   * 2. One set-based call to the store for every status of every parsed record (apply_status_updates once per batch,
   *    not once per record), bisected around the statuses the database refuses for their data. The records holding
   *    one are added to the failures by their message id.
   *
   * Why the bulk write is not a step inside Powertools' processor: its record handler sees one record at a time, and
   * its documented hooks (`prepare`, `clean`) are synchronous, so a batch-level database call cannot run inside them.
   * The response is therefore Powertools' partial response for pass 1 plus the message ids of pass 2, built with
   * the public `SQSBatchResponse` shape.
   */
  async function processStatusBatch(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
    const parsed: { record: SQSRecord; message: QueueMessage }[] = [];
    const parseRecord = async (record: SQSRecord): Promise<void> => {
      try {
        parsed.push({ record, message: parseStatusRecord(record) });
      } catch (error) {
        logger.error('poison record', { messageId: record.messageId, reason: safeError(error).message });
        throw error;
      }
    };
    // A processor per invocation: it holds the invocation's records, and the local run and the alert simulator call
    // this function concurrently in one process. Sequential: parsing is synchronous, so parallel would gain nothing,
    // and the statuses keep the order of the batch. `throwOnFullBatchFailure: false`: a batch of poison records is
    // answered with all of them in `batchItemFailures`, as SQS expects, not by failing the invocation.
    const parseOutcome = await processPartialResponse(
      event,
      parseRecord,
      new BatchProcessor(EventType.SQS, { logger }),
      {
        context,
        throwOnFullBatchFailure: false,
        processInParallel: false,
      },
    );
    const poisonRecords = parseOutcome.batchItemFailures.length;

    const recorded: RecordedUpdate[] = [];
    const correlationIds = new Set<string>();
    for (const { record, message } of parsed) {
      for (const [index, update] of message.statuses.entries())
        recorded.push({ update, recordId: record.messageId, index });
      if (message.correlation_id) correlationIds.add(message.correlation_id);
    }

    let unstorable = new Set<string>();
    try {
      if (recorded.length > 0) unstorable = await applyAndMeasure(recorded, event.Records.length, [...correlationIds]);
      unstorable = new Set([...unstorable, ...(await storeAccountEvents(parsed))]);
    } catch (error) {
      if (error instanceof BatchNotStoredError) await backOff(parsed.map((p) => p.record));
      throw error;
    } finally {
      const poison = poisonRecords + unstorable.size;
      if (poison) metrics.addMetric(METRIC.PoisonRecords, MetricUnit.Count, poison);
    }
    return {
      batchItemFailures: [
        ...parseOutcome.batchItemFailures,
        ...[...unstorable].map((itemIdentifier) => ({ itemIdentifier })),
      ],
    };
  }

  /**
   * The batch's account and template events (account-events.ts), after its statuses. Returns the records to fail
   * when the database refuses the events for their data; any other error throws like the statuses' do.
   */
  async function storeAccountEvents(parsed: readonly { record: SQSRecord; message: QueueMessage }[]) {
    const holding = parsed.filter((p) => p.message.account_events?.length);
    if (holding.length === 0) return [];
    const events = holding.flatMap((p) => p.message.account_events ?? []);
    try {
      await recordAccountEvents(events, { store: await deps.store(), notifier: deps.accountNotifier, logger, metrics });
      return [];
    } catch (error) {
      const safe = safeError(error);
      if (!isDataError(error)) {
        metrics.addMetric(METRIC.DatabaseErrors, MetricUnit.Count, 1);
        logger.error('the account events could not be stored; SQS will deliver them again', { error: safe });
        throw new BatchNotStoredError(`the account events could not be stored: ${safe.message}`, safe.code);
      }
      logger.error('account events refused by the database; their queue messages fail alone', { error: safe });
      return holding.map((p) => p.record.messageId);
    }
  }

  // Powertools' logMetrics middleware publishes what the invocation measured, once, after the batch returns or throws
  // (a database outage still publishes DatabaseErrors). It wraps this function rather than only handler.ts so that
  // every caller (the Lambda handler, the local run, the alert simulator, the tests) publishes the same way.
  const withMetrics = middy(processStatusBatch).use(logMetrics(metrics));
  // Outside Lambda there is no context: middy stands in an empty object, which neither middleware nor handler reads.
  return (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> => withMetrics(event, context as Context);
}
