import { Metrics } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE } from '../../lambdas/domain/metric-names';
import { type MetricStore, metricKey } from './cloudwatch';

/** Captures the EMF documents the real handlers publish, as CloudWatch would ingest them, at simulated times. */
export class CapturingMetrics extends Metrics {
  constructor(
    private readonly service: string,
    private readonly sink: (emf: Record<string, unknown>) => void,
    single = false,
  ) {
    super({ namespace: METRICS_NAMESPACE, serviceName: service, singleMetric: single });
  }

  override publishStoredMetrics(): this {
    try {
      if (this.hasStoredMetrics()) this.sink(this.serializeMetrics() as unknown as Record<string, unknown>);
    } finally {
      this.clearMetrics();
      this.clearDimensions();
      this.clearMetadata();
    }
    return this;
  }

  override singleMetric(): Metrics {
    return new CapturingMetrics(this.service, this.sink, true);
  }
}

/** EMF -> samples in the store: one stream per metric and dimension set, as CloudWatch extracts them. */
export function ingestEmf(store: MetricStore, emf: Record<string, unknown>, at: number): void {
  const directive = (
    emf._aws as { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] }
  ).CloudWatchMetrics;
  for (const block of directive) {
    for (const dimensionSet of block.Dimensions) {
      const dims = Object.fromEntries(dimensionSet.map((d) => [d, String(emf[d])]));
      for (const metric of block.Metrics) {
        for (const value of [emf[metric.Name]].flat() as number[])
          store.put(metricKey(block.Namespace, metric.Name, dims), at, value);
      }
    }
  }
}
