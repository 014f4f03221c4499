import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

import { DEFAULT_SERVICE_NAME, METRICS_NAMESPACE } from '../domain/metric-names';

/** The service name every log line and metric carries (the deployed stack's name; see lambdas/domain/metric-names.ts). */
export const SERVICE_NAME = process.env.POWERTOOLS_SERVICE_NAME || DEFAULT_SERVICE_NAME;

/**
 * One Logger and one Metrics per process, shared by every module (Powertools' recommended shape). LOG_LEVEL and
 * POWERTOOLS_LOG_LEVEL set the level; nothing logged anywhere holds a secret or a whole phone number.
 * POWERTOOLS_METRICS_DISABLED=true silences the EMF output (the local run does).
 */
export const logger = new Logger({ serviceName: SERVICE_NAME });
export const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });

