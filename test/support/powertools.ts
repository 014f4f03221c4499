import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DEFAULT_SERVICE_NAME, METRICS_NAMESPACE } from '../../lambdas/domain/metric-names';

export const silentLogger = () => new Logger({ logLevel: 'SILENT' });

/** Metrics that publish nothing (EMF is off in tests) and keep their own notices quiet. */
export const quietMetrics = () => new Metrics({ namespace: 'Test', serviceName: 'test', logger: silentLogger() });

/** One EMF document as Powertools writes it to stdout. */
export interface EmfDocument {
  _aws: {
    CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[];
  };
  [key: string]: unknown;
}

/**
 * Metrics that really publish, with the EMF documents captured from stdout, so a test can read exactly what
 * CloudWatch would receive.
 */
export function capturingMetrics(namespace = METRICS_NAMESPACE) {
  const previous = process.env.POWERTOOLS_METRICS_DISABLED;
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  // Stays enabled until restore(): singleMetric() builds new instances that read the variable again.
  const metrics = new Metrics({ namespace, serviceName: DEFAULT_SERVICE_NAME });
  const documents: EmfDocument[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
    const text = String(chunk);
    for (const line of text.split('\n')) {
      if (line.includes('"_aws"')) documents.push(JSON.parse(line) as EmfDocument);
    }
    return true;
  });
  /** Every value of `name` across the captured documents, with the document's dimensions. */
  const values = (name: string): { value: number; dimensions: Record<string, unknown> }[] =>
    documents.flatMap((doc) => {
      const declared = doc._aws.CloudWatchMetrics.some((m) => m.Metrics.some((x) => x.Name === name));
      if (!declared) return [];
      const raw = doc[name];
      const dims = Object.fromEntries(doc._aws.CloudWatchMetrics[0]!.Dimensions.flat().map((d) => [d, doc[d]]));
      return [raw].flat().map((value) => ({ value: value as number, dimensions: dims }));
    });
  const restore = () => {
    spy.mockRestore();
    process.env.POWERTOOLS_METRICS_DISABLED = previous;
  };
  return { metrics, documents, values, restore };
}
