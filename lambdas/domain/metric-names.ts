/** The CloudWatch namespace of every custom metric. */
export const METRICS_NAMESPACE = 'WhatsAppDeliveryTracker';

/**
 * The `service` of every log line and the one dimension of every custom metric when POWERTOOLS_SERVICE_NAME is not
 * set. A deployed stack sets it to the stack's name, so two stacks in one account never mix their figures.
 */
export const DEFAULT_SERVICE_NAME = 'whatsapp-delivery-tracker';

/**
 * Every custom metric, by name: the handlers publish them (EMF, namespace METRICS_NAMESPACE, dimension `service`),
 * the alarms and the dashboard in lib/ read them. One list so the two sides cannot drift.
 */
export const METRIC = {
  // ingest
  StatusesAccepted: 'StatusesAccepted',
  ItemsRejected: 'ItemsRejected',
  WebhookAuthFailures: 'WebhookAuthFailures',
  /** Authenticated webhooks whose raw copy could not be archived (their statuses were handled regardless). */
  ArchiveFailures: 'ArchiveFailures',
  // processor
  StatusesReceived: 'StatusesReceived',
  /** Dimension `Status`: sent, delivered, read, played, failed. */
  StatusesApplied: 'StatusesApplied',
  DeliveryLatency: 'DeliveryLatency',
  ReadLatency: 'ReadLatency',
  PoisonRecords: 'PoisonRecords',
  /** Status-change events put on the bus (docs/events.md): by the relay, and again from the event retry queue. */
  StatusEventsPublished: 'StatusEventsPublished',
  /** Events the bus refused (after retries): left in the outbox (or, before the outbox, the event retry queue). */
  StatusEventsParked: 'StatusEventsParked',
  /** Events neither the bus nor the retry queue took (the release before the outbox): only the log names them. */
  StatusEventsLost: 'StatusEventsLost',
  /** Seconds from a change's commit to the bus accepting its event, the oldest of each relay claim (docs/events.md). */
  StatusEventLatency: 'StatusEventLatency',
  /** Account and template events recorded for the first time; dimension `Severity`: critical, warning, info. */
  AccountEvents: 'AccountEvents',
  /** Account notifications (critical or warning) that could not be sent to their topic. */
  AccountNotificationFailures: 'AccountNotificationFailures',
  // processor and sweeper
  /** Calls to the database that failed (the processor's batches, the sweeper's figures). */
  DatabaseErrors: 'DatabaseErrors',
  DatabaseCallDuration: 'DatabaseCallDuration',
  // sweeper: the figures of delivery_health, published every run; those of SENDER_METRICS (sender-health.ts) also
  // per listed sender, with the dimension `Sender` (its phone number id or AiSensy project id)
  SweeperRuns: 'SweeperRuns',
  CohortSent: 'CohortSent',
  DeliveryRate: 'DeliveryRate',
  FailureRate: 'FailureRate',
  AvgDeliveryTime: 'AvgDeliveryTime',
  MedianDeliveryTime: 'MedianDeliveryTime',
  DeliveryTimeSamples: 'DeliveryTimeSamples',
  ReadCohortDelivered: 'ReadCohortDelivered',
  ReadRate: 'ReadRate',
  UndeliveredCohort: 'UndeliveredCohort',
  UndeliveredMessages: 'UndeliveredMessages',
  UndeliveredPercent: 'UndeliveredPercent',
  DailySummaryFailures: 'DailySummaryFailures',
  /** Message rows deleted by retention in one sweeper run (docs/retention.md); only with `retentionDays` set. */
  RetentionDeletedMessages: 'RetentionDeletedMessages',
  /** The daily summary went out without its report link (rendering, upload or signing failed). */
  DailyReportLinkFailures: 'DailyReportLinkFailures',
  /** Sections the day's report page went without, their queries having failed (docs/daily-report.md). */
  DailyReportSectionsUnavailable: 'DailyReportSectionsUnavailable',
} as const;
