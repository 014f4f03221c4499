/**
 * Every custom metric, by name: the handlers publish them (EMF, namespace METRICS_NAMESPACE, dimension `service`),
 * the alarms and the dashboard in lib/ read them. One list so the two sides cannot drift.
 */
export const METRIC = {
  // ingest
  StatusesAccepted: 'StatusesAccepted',
  ItemsRejected: 'ItemsRejected',
  WebhookAuthFailures: 'WebhookAuthFailures',
  // processor
  StatusesReceived: 'StatusesReceived',
  /** Dimension `Status`: sent, delivered, read, played, failed. */
  StatusesApplied: 'StatusesApplied',
  DeliveryLatency: 'DeliveryLatency',
  ReadLatency: 'ReadLatency',
  DatabaseCallDuration: 'DatabaseCallDuration',
  DatabaseErrors: 'DatabaseErrors',
  PoisonRecords: 'PoisonRecords',
  // sweeper
  SweeperRuns: 'SweeperRuns',
  CohortSent: 'CohortSent',
  DeliveryRate: 'DeliveryRate',
  ReadRate: 'ReadRate',
  AvgDeliveryTime: 'AvgDeliveryTime',
  UndeliveredMessages: 'UndeliveredMessages',
} as const;
