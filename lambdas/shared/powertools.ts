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
export const metrics = new Metrics({
  namespace: METRICS_NAMESPACE,
  serviceName: SERVICE_NAME,
  logger: metricsNotices(logger),
});

/** What Metrics' documented `logger` option takes. */
type MetricsNoticeLogger = NonNullable<NonNullable<ConstructorParameters<typeof Metrics>[0]>['logger']>;

/**
 * Where Metrics writes its own notices (never the EMF itself): through `log`, as JSON lines that carry the
 * invocation's keys. Powertools' logMetrics middleware publishes after every invocation, and an invocation that
 * measured nothing (a refused webhook, Meta's verification GET) makes Powertools warn "No application metrics to
 * publish": expected here, so that one notice is logged at DEBUG; every other notice keeps its level.
 */
export function metricsNotices(log: Logger): MetricsNoticeLogger {
  return {
    debug: (...content) => log.debug(...notice(content)),
    info: (...content) => log.info(...notice(content)),
    warn: (...content) => (isEmptyFlush(content[0]) ? log.debug(...notice(content)) : log.warn(...notice(content))),
    error: (...content) => log.error(...notice(content)),
  };
}

const isEmptyFlush = (message: unknown) =>
  typeof message === 'string' && message.startsWith('No application metrics to publish');
const notice = (content: unknown[]): [string] => [content.map(String).join(' ')];
