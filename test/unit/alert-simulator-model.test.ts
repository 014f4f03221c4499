import * as fc from 'fast-check';
import { evaluateHealthAlerts } from '../../lambdas/domain/alert-rules';
import { DEFAULT_ALARMS } from '../../lambdas/domain/alert-settings';
import type { DeliveryHealth, HealthStore } from '../../lambdas/store/health-store';
import { createSweeper } from '../../lambdas/sweeper/sweep-delivery-health';
import {
  AlarmEvaluator,
  type MetricAlarm,
  MetricStore,
  metricKey,
  readAlarms,
} from '../../tools/alert-simulation/cloudwatch';
import { CapturingMetrics, ingestEmf } from '../../tools/alert-simulation/emf-capture';
import { evaluateExpression, parseExpression } from '../../tools/alert-simulation/metric-math';
import { synthesizeStackModel } from '../../tools/alert-simulation/stack-model';
import { silentLogger } from '../support/powertools';

const MINUTE = 60_000;

describe('metric math as CloudWatch evaluates it', () => {
  const evaluate = (expression: string, values: Record<string, number | undefined>) =>
    evaluateExpression(parseExpression(expression), (id) => values[id]);

  it.each([
    ['FILL(a, 0) + FILL(b, 0)', { a: 2, b: undefined }, 2],
    ['a + b', { a: 2, b: undefined }, undefined],
    ['100 * a / b', { a: 1, b: 4 }, 25],
    ['a / b', { a: 1, b: 0 }, undefined],
    ['IF(FILL(n, 0) >= 50, FILL(rate, 100), 100)', { n: 49, rate: 10 }, 100],
    ['IF(FILL(n, 0) >= 50, FILL(rate, 100), 100)', { n: 50, rate: 10 }, 10],
    ['IF(FILL(n, 0) >= 50, FILL(rate, 100), 100)', { n: undefined, rate: undefined }, 100],
    ['IF(a > b, a, b)', { a: 3, b: 7 }, 7],
    ['IF(a, b)', { a: 0, b: 7 }, undefined],
    ['a > 1 AND b < 1 || -a == -2', { a: 2, b: 5 }, 1],
  ])('%s with %p is %p', (expression, values, expected) => {
    expect(evaluate(expression, values)).toBe(expected);
  });

  it('refuses what it does not model, naming the expression', () => {
    expect(() => parseExpression('ANOMALY_DETECTION_BAND(m, 2)')).toThrow(
      /ANOMALY_DETECTION_BAND\/2 is not supported.*ANOMALY/,
    );
    expect(() => parseExpression('a +')).toThrow(/expected more/);
  });
});

describe('alarm evaluation: periods, M of N and missing data', () => {
  const alarm = (overrides: Partial<MetricAlarm>): MetricAlarm => ({
    kind: 'metric',
    logicalId: 'A',
    name: 'a',
    severity: 'critical',
    description: '',
    periodMs: 5 * MINUTE,
    evaluationPeriods: 2,
    datapointsToAlarm: 2,
    threshold: 1,
    comparison: 'GreaterThanOrEqualToThreshold',
    missing: 'notBreaching',
    queries: [{ id: 'm', key: 'k', stat: 'Sum', returnData: true }],
    ...overrides,
  });
  const run = (definition: MetricAlarm, samples: [minute: number, value: number][], minutes: number) => {
    const store = new MetricStore();
    for (const [minute, value] of samples) store.put('k', minute * MINUTE + 1_000, value);
    const evaluator = new AlarmEvaluator([definition], store);
    for (let m = 1; m <= minutes; m++) evaluator.evaluate(m * MINUTE);
    return evaluator.notifications.map((n) => `${n.state}@${n.at / MINUTE}`);
  };

  it('needs DatapointsToAlarm breaching periods: one error pages nobody, errors in two periods do', () => {
    expect(run(alarm({}), [[3, 1]], 20)).toEqual([]);
    // errors at minutes 3 and 8: two rolling 5-minute periods breach at the end of minute 8
    expect(
      run(
        alarm({}),
        [
          [3, 1],
          [8, 1],
        ],
        20,
      ),
    ).toEqual(['ALARM@9', 'OK@14']);
  });

  it('treats missing data as the alarm says: breaching pages on silence, notBreaching does not', () => {
    const silence = alarm({
      comparison: 'LessThanThreshold',
      missing: 'breaching',
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
    });
    expect(
      run(
        silence,
        [
          [0, 5],
          [1, 5],
        ],
        20,
      ),
    ).toEqual(['ALARM@17']);
    expect(run(alarm({ comparison: 'LessThanThreshold' }), [[0, 5]], 20)).toEqual([]);
  });

  it('computes percentiles over every sample of the period', () => {
    const p90 = alarm({
      queries: [{ id: 'm', key: 'k', stat: 'p90', returnData: true }],
      threshold: 1_000,
      comparison: 'GreaterThanThreshold',
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
    });
    const fast = Array.from({ length: 9 }, (_, i): [number, number] => [2, 20 + i]);
    expect(run(p90, [...fast, [2, 5_000]], 4)).toEqual([]);
    expect(run(p90, [...fast, [2, 5_000], [2, 5_000]], 4)).toEqual(['ALARM@3']);
  });

  it('counts periods before the simulation as healthy history', () => {
    const silence = alarm({
      comparison: 'LessThanThreshold',
      missing: 'breaching',
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
    });
    const store = new MetricStore();
    const evaluator = new AlarmEvaluator([silence], store, 10 * MINUTE);
    for (let m = 11; m <= 24; m++) evaluator.evaluate(m * MINUTE);
    expect(evaluator.notifications).toEqual([]);
    evaluator.evaluate(25 * MINUTE);
    expect(evaluator.notifications.map((n) => `${n.state}@${n.at / MINUTE}`)).toEqual(['ALARM@25']);
  });
});

describe('alerts:check and the CloudWatch alarms judge the same figures the same way', () => {
  const model = synthesizeStackModel();
  const databaseSide = ['deliveryRate', 'undelivered', 'readRate', 'deliveryTime'] as const;
  const alarms = databaseSide.map(
    (name) => model.alarms.find((a): a is MetricAlarm => a.kind === 'metric' && a.name === name)!,
  );

  // Sizes and rates anywhere, and often exactly at the minimum cohorts and thresholds, where a < for a <= hides.
  const size = (min: number) => fc.oneof(fc.integer({ min: 0, max: 4 * min }), fc.constantFrom(min - 1, min, min + 1));
  const percent = (threshold: number) =>
    fc.option(
      fc.oneof(
        fc.integer({ min: 0, max: 10_000 }).map((v) => v / 100),
        fc.constantFrom(threshold - 0.01, threshold, threshold + 0.01),
      ),
    );
  const health = fc.record({
    cohort_sent: size(DEFAULT_ALARMS.deliveryRate.minCohort),
    read_cohort_delivered: size(DEFAULT_ALARMS.readRate.minCohort),
    undelivered_cohort_sent: size(DEFAULT_ALARMS.undelivered.minCohort),
    delivery_latency_samples: size(DEFAULT_ALARMS.deliveryTime.minCohort),
    delivery_rate_percent: percent(DEFAULT_ALARMS.deliveryRate.threshold),
    read_rate_percent: percent(DEFAULT_ALARMS.readRate.threshold),
    undelivered_percent: percent(DEFAULT_ALARMS.undelivered.threshold),
    median_delivery_seconds: percent(DEFAULT_ALARMS.deliveryTime.threshold),
  });

  it('for any figures the sweeper publishes, each alarm breaches exactly when evaluateHealthAlerts says it fires', async () => {
    await fc.assert(
      fc.asyncProperty(health, async (figures) => {
        const h: DeliveryHealth = {
          computed_at: new Date(0).toISOString(),
          cohort_delivered: 0,
          cohort_failed: 0,
          failure_rate_percent: null,
          top_error_code: null,
          top_error_title: null,
          top_error_count: 0,
          avg_delivery_seconds: null,
          read_cohort_read: 0,
          undelivered_count: 0,
          ...figures,
        };
        // The real sweeper publishes the figures; the template's alarms read them.
        const store = new MetricStore();
        const healthStore: HealthStore = {
          deliveryHealth: async () => h,
          deliverySummary: async () => {
            throw new Error('unused');
          },
        };
        const sweep = createSweeper({
          store: () => healthStore,
          metrics: new CapturingMetrics(model.serviceNames.sweeper, (emf) => ingestEmf(store, emf, 2 * MINUTE)),
          logger: silentLogger(),
          cohorts: model.sweeper.cohorts,
          failureSpike: { ...model.sweeper.failureSpike, enabled: false },
        });
        await sweep({ kind: 'health' });
        const evaluator = new AlarmEvaluator(alarms, store);
        const rules = evaluateHealthAlerts(h, DEFAULT_ALARMS);
        for (const alarm of alarms) {
          const value = evaluator.datapoint(alarm, 5 * MINUTE);
          const breaches =
            alarm.comparison === 'LessThanThreshold' ? value! < alarm.threshold : value! > alarm.threshold;
          expect({ alarm: alarm.name, breaches }).toEqual({
            alarm: alarm.name,
            breaches: rules.find((r) => r.name === alarm.name)!.fires,
          });
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('metric isolation', () => {
  /** Every metric an alarm of the stack watches, with resource references qualified by the stack. */
  const watched = (stackName: string) => {
    const model = synthesizeStackModel({}, stackName);
    return new Set(
      model.alarms.flatMap((a) =>
        a.kind === 'metric'
          ? a.queries.flatMap((q) => (q.key ? [q.key.replace(/ref:/g, `ref:${stackName}/`)] : []))
          : [],
      ),
    );
  };

  it('two stacks in one account share no API name and no alarm metric', () => {
    const a = synthesizeStackModel({}, 'TrackerProd');
    const b = synthesizeStackModel({}, 'TrackerDev');
    expect(a.dimensions.apiName).not.toBe(b.dimensions.apiName);
    const prod = watched('TrackerProd');
    const shared = [...watched('TrackerDev')].filter((key) => prod.has(key));
    expect(shared).toEqual([]);
  });

  it("each function publishes its custom metrics under the `service` its stack's alarms watch (real EMF, env from the template)", () => {
    const model = synthesizeStackModel({}, 'TrackerDev');
    const watchedCustom = new Set(
      model.alarms.flatMap((a) =>
        a.kind === 'metric'
          ? a.queries.flatMap((q) => (q.key?.startsWith('WhatsAppDeliveryTracker|') ? [q.key] : []))
          : [],
      ),
    );
    expect(watchedCustom.size).toBeGreaterThan(5);
    for (const role of ['ingest', 'processor', 'sweeper'] as const) {
      const previous = {
        service: process.env.POWERTOOLS_SERVICE_NAME,
        disabled: process.env.POWERTOOLS_METRICS_DISABLED,
      };
      const lines: string[] = [];
      const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
        lines.push(String(chunk));
        return true;
      });
      try {
        // As Lambda starts the function: the environment from the template, then the module that builds Metrics.
        process.env.POWERTOOLS_SERVICE_NAME = model.serviceNames[role];
        process.env.POWERTOOLS_METRICS_DISABLED = 'false';
        jest.isolateModules(() => {
          const { metrics } =
            require('../../lambdas/shared/powertools') as typeof import('../../lambdas/shared/powertools');
          metrics.addMetric('DatabaseErrors', 'Count', 1);
          metrics.publishStoredMetrics();
        });
      } finally {
        spy.mockRestore();
        process.env.POWERTOOLS_SERVICE_NAME = previous.service;
        process.env.POWERTOOLS_METRICS_DISABLED = previous.disabled;
      }
      const store = new MetricStore();
      for (const line of lines
        .join('')
        .split('\n')
        .filter((l) => l.includes('"_aws"')))
        ingestEmf(store, JSON.parse(line), 0);
      expect(store.keys()).toEqual([metricKey('WhatsAppDeliveryTracker', 'DatabaseErrors', { service: 'TrackerDev' })]);
      expect(watchedCustom.has(store.keys()[0]!)).toBe(true);
    }
  });
});

describe('the processor as the template deploys it', () => {
  it("reads the status queue's event source mapping, not the status-change events' retry queue's", () => {
    // Picking the wrong mapping simulated batches of 10 instead of 100: 8.5x the processor invocations.
    const model = synthesizeStackModel({ processorBatchSize: 60, processorBatchingWindowSeconds: 2 });
    expect(model.processor.batchSize).toBe(60);
  });
});

describe('the alarms are read from the synthesized template', () => {
  it('reads every alarm and the composite rule, and refuses a rule it cannot model', () => {
    const model = synthesizeStackModel();
    expect(model.alarms.filter((a) => a.kind === 'composite').map((a) => a.name)).toEqual(['webhookSilence']);
    const template = JSON.parse(JSON.stringify(model.template)) as {
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
    };
    const composite = Object.values(template.Resources).find((r) => r.Type === 'AWS::CloudWatch::CompositeAlarm')!;
    composite.Properties.AlarmRule = 'ALARM(arn:aws:cloudwatch:elsewhere) AT_LEAST(2)';
    expect(() => readAlarms(template)).toThrow(/not modelled/);
  });
});
