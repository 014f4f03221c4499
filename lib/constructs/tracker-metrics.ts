import { Duration } from 'aws-cdk-lib';
import { Metric, type MetricOptions } from 'aws-cdk-lib/aws-cloudwatch';
import { METRIC } from '../../lambdas/shared/metric-names';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../lambdas/shared/powertools';

export type TrackerMetricName = keyof typeof METRIC;

/** A custom metric as the handlers publish it (EMF: namespace, dimension `service`). */
export function trackerMetric(name: TrackerMetricName, options: MetricOptions & { dimensions?: Record<string, string> } = {}): Metric {
  const { dimensions, ...rest } = options;
  return new Metric({
    namespace: METRICS_NAMESPACE,
    metricName: METRIC[name],
    dimensionsMap: { service: SERVICE_NAME, ...dimensions },
    period: Duration.minutes(5),
    ...rest,
  });
}
