import { BatchProcessor, EventType } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { QueueMessage } from '../domain/queue-message';
import { measureChanges } from '../domain/status-metrics';
import type { StatusUpdate } from '../domain/status-update';
import type { StatusStore } from '../store/status-store';
import { METRIC } from '../shared/metric-names';

export interface ProcessorDependencies {
  /** Resolved lazily so a cold start does not open a connection before the first batch needs it. */
  store: () => Promise<StatusStore> | StatusStore;
  logger: Logger;
  /** Receives the batch's metrics (EMF); published at the end of every invocation. */
  metrics: Metrics;
  /** Milliseconds on a monotonic clock, for call durations (the alert simulator passes its own). */
  clock?: () => number;
}

/** A record whose body is not a queue message this version understands: it fails alone (retry, then DLQ). */
export class PoisonRecordError extends Error {
  override readonly name = 'PoisonRecordError';
}

/**
 * The processor Lambda's logic: SQS batch -> validate each record -> one database call for the whole batch ->
 * partial batch response. A record that cannot be parsed is reported in `batchItemFailures` (SQS retries it, then
 * moves it to the DLQ); a database error throws, so the whole batch returns to the queue and nothing is lost.
 */
export function createStatusBatchProcessor(deps: ProcessorDependencies) {
  const { logger, metrics } = deps;
  const clock = deps.clock ?? (() => performance.now());
  // Powertools' processor records which items failed and builds the partial-failure response.
  const processor = new BatchProcessor(EventType.SQS);

  const parseRecord = (record: SQSRecord): QueueMessage => {
    let body: unknown;
    try {
      body = JSON.parse(record.body);
    } catch {
      throw new PoisonRecordError('record body is not JSON');
    }
    const parsed = QueueMessage.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new PoisonRecordError(`record is not a status message: ${issue?.path.join('.')}: ${issue?.message}`);
    }
    return parsed.data;
  };

  async function applyAndMeasure(updates: StatusUpdate[], records: number, correlationIds: string[]): Promise<void> {
    const store = await deps.store();
    const started = clock();
    let changes;
    try {
      // Throws on a database error: Lambda fails the invocation and SQS makes the whole batch visible again.
      changes = await store.applyStatusUpdates(updates);
    } catch (error) {
      metrics.addMetric(METRIC.DatabaseErrors, MetricUnit.Count, 1);
      throw error;
    } finally {
      metrics.addMetric(METRIC.DatabaseCallDuration, MetricUnit.Milliseconds, Math.round(clock() - started));
    }
    metrics.addMetric(METRIC.StatusesReceived, MetricUnit.Count, updates.length);
    const measured = measureChanges(changes);
    for (const seconds of measured.deliveryLatencySeconds) metrics.addMetric(METRIC.DeliveryLatency, MetricUnit.Seconds, seconds);
    for (const seconds of measured.readLatencySeconds) metrics.addMetric(METRIC.ReadLatency, MetricUnit.Seconds, seconds);
    for (const [stage, count] of Object.entries(measured.appliedByStage)) {
      const single = metrics.singleMetric();
      single.addDimension('Status', stage);
      single.addMetric(METRIC.StatusesApplied, MetricUnit.Count, count);
    }
    logger.info('batch applied', {
      // The webhook requests (API Gateway request ids) these statuses came from: search the ingest logs by them.
      correlationIds,
      records,
      statuses: updates.length,
      changedMessages: changes.length,
      insertedMessages: changes.filter((c) => c.inserted).length,
    });
  }

  return async function processStatusBatch(event: SQSEvent, context?: Context): Promise<SQSBatchResponse> {
    processor.register(event.Records, parseRecord, { context, throwOnFullBatchFailure: false });
    const outcomes = await processor.process();

    const updates: StatusUpdate[] = [];
    const correlationIds = new Set<string>();
    for (const outcome of outcomes) {
      if (outcome[0] !== 'success') continue;
      const message = outcome[1] as QueueMessage;
      updates.push(...message.statuses);
      if (message.correlation_id) correlationIds.add(message.correlation_id);
    }
    for (const [index, error] of processor.errors.entries()) {
      const record = processor.failureMessages[index] as SQSRecord | undefined;
      logger.error('poison record', { messageId: record?.messageId, reason: error.message });
    }

    if (processor.errors.length) metrics.addMetric(METRIC.PoisonRecords, MetricUnit.Count, processor.errors.length);

    try {
      if (updates.length > 0) await applyAndMeasure(updates, event.Records.length, [...correlationIds]);
    } finally {
      // Only when something was measured: an empty flush makes Powertools warn on every refused request.
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
    return processor.response();
  };
}
