import { Duration } from 'aws-cdk-lib';
import { Metric, type MetricOptions } from 'aws-cdk-lib/aws-cloudwatch';
import { METRIC, METRICS_NAMESPACE } from '../../lambdas/domain/metric-names';

export type TrackerMetricName = keyof typeof METRIC;

/**
 * The custom metrics of one stack, as its functions publish them (EMF, namespace METRICS_NAMESPACE, dimension
 * `service` = the POWERTOOLS_SERVICE_NAME the stack gives its functions).
 */
export class TrackerMetrics {
  constructor(public readonly serviceName: string) {}

  metric(name: TrackerMetricName, options: MetricOptions & { dimensions?: Record<string, string> } = {}): Metric {
    const { dimensions, ...rest } = options;
    return new Metric({
      namespace: METRICS_NAMESPACE,
      metricName: METRIC[name],
      dimensionsMap: { service: this.serviceName, ...dimensions },
      period: Duration.minutes(5),
      ...rest,
    });
  }
}
