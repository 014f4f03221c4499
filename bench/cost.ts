/**
 * AWS list prices used for the cost estimate, us-east-1, as published on AWS's pricing pages (recorded
 * 2026-11-24; check them for your region before relying on the figure).
 */
export const PRICES = {
  recordedOn: '2026-11-24',
  region: 'us-east-1',
  apiGatewayRestPerMillion: 3.5, // REST API, first 333 million requests a month
  apiGatewayHttpPerMillion: 1.0, // HTTP API, first 300 million requests a month (metered per 512 KB of request)
  lambdaRequestsPerMillion: 0.2,
  lambdaArmPerGbSecond: 0.0000133334, // arm64, first 7.5 billion GB-s a month
  sqsPerMillionRequests: 0.4, // standard queue, per 64 KB chunk of a request
  logsIngestionPerGb: 0.5,
  eventBridgeCustomEventsPerMillion: 1.0, // PutEvents to a custom bus, per 64 KB chunk of an entry (ours: < 1 KB)
  // The webhook archive (docs/archive.md). Firehose Direct PUT ingestion, first 500 TB a month, billed per record
  // rounded up to 5 KB (5,120 bytes) (https://aws.amazon.com/firehose/pricing/).
  firehoseIngestionPerGb: 0.029,
  firehoseRecordIncrementBytes: 5_120,
  // https://aws.amazon.com/s3/pricing/: Standard storage (first 50 TB), Glacier Instant Retrieval storage, PUT
  // requests (Standard), lifecycle transitions into Glacier Instant Retrieval.
  s3StandardPerGbMonth: 0.023,
  s3GlacierIrPerGbMonth: 0.004,
  s3PutPerThousand: 0.005,
  s3TransitionToGlacierIrPerThousand: 0.02,
};

/** Which API Gateway serves the webhook (config `apiType`). */
export type ApiType = 'rest' | 'http';

export interface CostInputs {
  /** @default 'rest' */
  apiType?: ApiType;
  /** Ingest handler time for a 1-status webhook measured here (ms). */
  ingestHandlerMs: number;
  /** Processor database call for a batch of 10 statuses with 2 ms to the database (ms), measured here. */
  processorBatchMs: number;
  ingestMemoryMb: number;
  processorMemoryMb: number;
  /**
   * Status-change events (docs/events.md), measured by the bench: events per webhook (changes per status: duplicates
   * and no-change statuses publish none), the processor's added wall time per batch of 10 (the outbox write in its
   * transaction) and, optionally, the relay's throughput (events per
   * second; default RELAY_EVENTS_PER_SECOND). Unset: events off.
   */
  statusEvents?: { eventsPerWebhook: number; extraMsPerBatch: number; relayEventsPerSecond?: number };
}

/**
 * Cost per million 1-status webhooks (AiSensy sends one per status). Lambda CPU scales with memory (a full vCPU
 * at 1,769 MB), so CPU time measured here is scaled up for the configured memory, plus an assumed 10 ms SQS round
 * trip inside AWS for the ingest. SQS: one SendMessageBatch per webhook, plus the event source's receive and
 * delete calls (one each per batch of 10) and idle long polls (~0.1 per webhook at steady traffic).
 */
/**
 * The relay's throughput when the bench does not pass its measurement: `npm run bench:events` measured 375-1,586
 * events/s draining alone on the loaded 2-core machine (2026-11-26). Its memory: lib/constructs/status-event-relay.ts.
 */
export const RELAY_EVENTS_PER_SECOND = 700;
export const RELAY_MEMORY_MB = 256;
/**
 * Not per million webhooks but per month: the relay lingers (polling every second) while changes keep coming, up to
 * ~50 s of every minute: 43,200 invocations and 540,000 GB-s a month at most (docs/events.md#the-outbox).
 */
export const RELAY_LINGER_MAX_USD_PER_MONTH =
  Math.round(43_200 * 50 * (RELAY_MEMORY_MB / 1024) * 0.0000133334 * 100) / 100;

export function costPerMillionWebhooks(inputs: CostInputs) {
  const million = 1_000_000;
  const cpuScale = (memoryMb: number) => Math.max(1, 1769 / memoryMb);
  const ingestMs = inputs.ingestHandlerMs * cpuScale(inputs.ingestMemoryMb) + 10;
  const processorInvocations = million / 10;
  // The outbox write's added time is spent waiting on the database: billed as is, not scaled for CPU.
  const processorMs =
    inputs.processorBatchMs * cpuScale(inputs.processorMemoryMb) * 0.5 +
    inputs.processorBatchMs * 0.5 +
    (inputs.statusEvents?.extraMsPerBatch ?? 0);
  const gbSeconds = (ms: number, mb: number, count: number) => (ms / 1000) * (mb / 1024) * count;
  const parts = {
    // A webhook body is far below 512 KB: one metered HTTP API request each.
    apiGateway: inputs.apiType === 'http' ? PRICES.apiGatewayHttpPerMillion : PRICES.apiGatewayRestPerMillion,
    ingestLambda:
      PRICES.lambdaRequestsPerMillion +
      gbSeconds(ingestMs, inputs.ingestMemoryMb, million) * PRICES.lambdaArmPerGbSecond,
    sqs: ((million + 2 * processorInvocations + 0.1 * million) / million) * PRICES.sqsPerMillionRequests,
    processorLambda:
      (processorInvocations / million) * PRICES.lambdaRequestsPerMillion +
      gbSeconds(processorMs, inputs.processorMemoryMb, processorInvocations) * PRICES.lambdaArmPerGbSecond,
    logs: ((million * 700) / 1024 ** 3) * PRICES.logsIngestionPerGb, // ~700 bytes of log lines per webhook
    // One event per change, each < 1 KB (one 64 KB chunk). The retry queue costs only when the bus refuses events.
    ...(inputs.statusEvents
      ? {
          statusEvents: inputs.statusEvents.eventsPerWebhook * PRICES.eventBridgeCustomEventsPerMillion,
          // The relay's busy time for these events (claims of 100, PutEvents 10 at once); its invocations are per
          // minute, not per webhook (RELAY_LINGER_MAX_USD_PER_MONTH).
          statusEventRelay:
            gbSeconds(
              (inputs.statusEvents.eventsPerWebhook * 1000) /
                (inputs.statusEvents.relayEventsPerSecond ?? RELAY_EVENTS_PER_SECOND),
              RELAY_MEMORY_MB,
              million,
            ) * PRICES.lambdaArmPerGbSecond,
        }
      : {}),
  };
  const total = Object.values(parts).reduce((a, b) => a + b, 0);
  return {
    usd: Math.round(total * 100) / 100,
    parts: Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, Math.round(v * 1000) / 1000])),
    assumed: {
      ingestBilledMs: Math.round(ingestMs),
      processorBilledMs: Math.round(processorMs),
      ...(inputs.statusEvents
        ? {
            statusEventsPerMillionWebhooks: Math.round(inputs.statusEvents.eventsPerWebhook * million),
            relayEventsPerSecond: inputs.statusEvents.relayEventsPerSecond ?? RELAY_EVENTS_PER_SECOND,
            relayLingerMaxUsdPerMonth: RELAY_LINGER_MAX_USD_PER_MONTH,
          }
        : {}),
    },
  };
}

/** The total per million webhooks on each API type, everything else equal: what `apiType: http` saves. */
export function costByApiType(inputs: Omit<CostInputs, 'apiType'>): Record<ApiType, number> {
  return {
    rest: costPerMillionWebhooks({ ...inputs, apiType: 'rest' }).usd,
    http: costPerMillionWebhooks({ ...inputs, apiType: 'http' }).usd,
  };
}

export interface ArchiveInputs {
  /** Archive lines (one per webhook) measured here: their sizes, and their GZIP size together. */
  recordBytes: number[];
  gzipBytes: number;
  statuses: number;
  /** The stack's archive settings (lib/config.ts). */
  bufferSeconds: number;
  transitionDays: number;
  expirationDays: number;
}

/**
 * The archive's cost. Per million webhooks: Firehose ingestion, each record billed rounded up to 5 KB, which a
 * 1-status webhook (~1 KB) never reaches, so it pays for 5 KB. Per month whatever the traffic: Firehose's S3 PUTs (one
 * object per buffer interval at low traffic; more only above `archiveBufferMb` per interval) and their transitions.
 * Storage per million statuses: the GZIP bytes measured here kept `transitionDays` in Standard, then Glacier IR until
 * `expirationDays` (priced per month of 30 days).
 */
export function archiveCost(inputs: ArchiveInputs) {
  const GB = 1024 ** 3;
  const billed = (bytes: number) =>
    Math.ceil(bytes / PRICES.firehoseRecordIncrementBytes) * PRICES.firehoseRecordIncrementBytes;
  const meanBilledBytes = inputs.recordBytes.reduce((sum, b) => sum + billed(b), 0) / inputs.recordBytes.length;
  const firehosePerMillionWebhooks = ((meanBilledBytes * 1_000_000) / GB) * PRICES.firehoseIngestionPerGb;
  const objectsPerMonth = (30 * 86_400) / Math.max(inputs.bufferSeconds, 60);
  const s3RequestsPerMonth =
    (objectsPerMonth / 1_000) * (PRICES.s3PutPerThousand + PRICES.s3TransitionToGlacierIrPerThousand);
  const gbPerMillionStatuses = ((inputs.gzipBytes / inputs.statuses) * 1_000_000) / GB;
  const months = (days: number) => days / 30;
  const storagePerMillionStatuses =
    gbPerMillionStatuses *
    (months(inputs.transitionDays) * PRICES.s3StandardPerGbMonth +
      months(Math.max(inputs.expirationDays - inputs.transitionDays, 90)) * PRICES.s3GlacierIrPerGbMonth);
  const round = (v: number, digits = 4) => Math.round(v * 10 ** digits) / 10 ** digits;
  return {
    firehosePerMillionWebhooks: round(firehosePerMillionWebhooks),
    s3RequestsPerMonth: round(s3RequestsPerMonth),
    storagePerMillionStatuses: round(storagePerMillionStatuses),
    measured: {
      meanRecordBytes: Math.round(inputs.recordBytes.reduce((a, b) => a + b, 0) / inputs.recordBytes.length),
      meanBilledBytes: Math.round(meanBilledBytes),
      gzipBytesPerStatus: round(inputs.gzipBytes / inputs.statuses, 1),
      gbPerMillionStatuses: round(gbPerMillionStatuses),
    },
  };
}
