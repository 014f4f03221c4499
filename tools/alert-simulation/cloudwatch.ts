import { type Datapoint, type Expression, evaluateExpression, parseExpression } from './metric-math';

/**
 * A small model of CloudWatch for the alert simulator: a metric store with one-minute resolution, and the alarms
 * of a synthesized CloudFormation template evaluated as CloudWatch documents it. Model choices (docs/alarms.md):
 * alarms are evaluated at the end of every minute over the last `EvaluationPeriods` periods ending then (rolling,
 * minute-aligned windows); an alarm goes to ALARM when at least `DatapointsToAlarm` of them breach, missing
 * datapoints counting as the alarm's `TreatMissingData` says; a composite alarm follows its rule at once. Metrics
 * are visible in the minute they are published (real CloudWatch adds up to a minute or two).
 */

const MINUTE = 60_000;

interface Bucket {
  sum: number;
  count: number;
  min: number;
  max: number;
  values: number[];
}

/** `namespace|metric|dim=value,...` with dimensions sorted by name. */
export function metricKey(namespace: string, metricName: string, dimensions: Record<string, string>): string {
  const dims = Object.keys(dimensions)
    .sort()
    .map((name) => `${name}=${dimensions[name]}`)
    .join(',');
  return `${namespace}|${metricName}|${dims}`;
}

/** Published samples, bucketed by minute (exact for every statistic CloudWatch alarms use). */
export class MetricStore {
  private readonly series = new Map<string, Map<number, Bucket>>();

  put(key: string, at: number, value: number): void {
    let buckets = this.series.get(key);
    if (!buckets) {
      buckets = new Map();
      this.series.set(key, buckets);
    }
    const minute = Math.floor(at / MINUTE);
    const bucket = buckets.get(minute);
    if (!bucket) buckets.set(minute, { sum: value, count: 1, min: value, max: value, values: [value] });
    else {
      bucket.sum += value;
      bucket.count += 1;
      bucket.min = Math.min(bucket.min, value);
      bucket.max = Math.max(bucket.max, value);
      bucket.values.push(value);
    }
  }

  keys(): string[] {
    return [...this.series.keys()];
  }

  /** The statistic of the samples in [from, to) (ms, minute-aligned), or undefined when there are none. */
  statistic(key: string, stat: string, from: number, to: number): Datapoint {
    const buckets = this.series.get(key);
    if (!buckets) return undefined;
    let sum = 0;
    let count = 0;
    let min = Infinity;
    let max = -Infinity;
    const values: number[] = [];
    const percentile = /^p(\d+(?:\.\d+)?)$/.exec(stat);
    for (let minute = from / MINUTE; minute < to / MINUTE; minute++) {
      const b = buckets.get(minute);
      if (!b) continue;
      sum += b.sum;
      count += b.count;
      min = Math.min(min, b.min);
      max = Math.max(max, b.max);
      if (percentile) values.push(...b.values);
    }
    if (count === 0) return undefined;
    switch (stat) {
      case 'Sum':
        return sum;
      case 'SampleCount':
        return count;
      case 'Average':
        return sum / count;
      case 'Minimum':
        return min;
      case 'Maximum':
        return max;
    }
    if (percentile) {
      values.sort((a, b) => a - b);
      return values[Math.max(0, Math.ceil((Number(percentile[1]) / 100) * values.length) - 1)];
    }
    throw new Error(`statistic ${stat} is not modelled`);
  }
}

type Json = Record<string, unknown>;

/** A dimension value of the template: a literal, or `ref:<logicalId>` for a Ref or GetAtt of a resource. */
export function dimensionValue(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
  if (v.Ref) return `ref:${v.Ref}`;
  if (v['Fn::GetAtt']) return `ref:${v['Fn::GetAtt'][0]}`;
  throw new Error(`dimension value ${JSON.stringify(value)} is not modelled`);
}

const dimensionsOf = (dims: unknown): Record<string, string> =>
  Object.fromEntries(
    ((dims as { Name: string; Value: unknown }[] | undefined) ?? []).map((d) => [d.Name, dimensionValue(d.Value)]),
  );

interface MetricQuery {
  id: string;
  key?: string;
  stat?: string;
  periodMs?: number;
  expression?: Expression;
  returnData: boolean;
}

export type Severity = 'critical' | 'warning' | 'none';
export type AlarmState = 'OK' | 'ALARM';

export interface MetricAlarm {
  kind: 'metric';
  logicalId: string;
  /** The settings' name: `AlarmsDeliveryRate1A2B3C4D` -> `deliveryRate`. */
  name: string;
  severity: Severity;
  description: string;
  periodMs: number;
  evaluationPeriods: number;
  datapointsToAlarm: number;
  threshold: number;
  comparison: string;
  missing: string;
  queries: MetricQuery[];
}

export interface CompositeAlarm {
  kind: 'composite';
  logicalId: string;
  name: string;
  severity: Severity;
  description: string;
  rule: (state: (logicalId: string) => AlarmState) => boolean;
  children: string[];
}

export type AlarmDefinition = MetricAlarm | CompositeAlarm;

const settingsName = (logicalId: string) => {
  const bare = logicalId.replace(/^Alarms/, '').replace(/[0-9A-F]{8}$/, '');
  return bare[0]!.toLowerCase() + bare.slice(1);
};

/** Severity from the actions: the topic's display name ends with its severity (lib/constructs/alert-topics.ts). */
function severityOf(resources: Record<string, Json>, props: Json): Severity {
  const actions = (props.AlarmActions as { Ref?: string }[] | undefined) ?? [];
  for (const action of actions) {
    const topic = action.Ref ? resources[action.Ref] : undefined;
    const name = String((topic?.Properties as Json | undefined)?.DisplayName ?? '');
    if (/critical$/i.test(name)) return 'critical';
    if (/warning$/i.test(name)) return 'warning';
  }
  return 'none';
}

/** Every alarm of a synthesized template, exactly as CloudFormation would create it. */
export function readAlarms(template: Json): AlarmDefinition[] {
  const resources = template.Resources as Record<string, Json>;
  const alarms: AlarmDefinition[] = [];
  for (const [logicalId, resource] of Object.entries(resources)) {
    const props = resource.Properties as Json;
    if (resource.Type === 'AWS::CloudWatch::Alarm') {
      const queries: MetricQuery[] = [];
      let periodMs = Number(props.Period ?? 0) * 1000;
      if (props.Metrics) {
        for (const q of props.Metrics as Json[]) {
          const stat = q.MetricStat as { Metric: Json; Period: number; Stat: string } | undefined;
          if (stat) {
            queries.push({
              id: String(q.Id),
              key: metricKey(
                String(stat.Metric.Namespace),
                String(stat.Metric.MetricName),
                dimensionsOf(stat.Metric.Dimensions),
              ),
              stat: stat.Stat,
              periodMs: stat.Period * 1000,
              returnData: q.ReturnData !== false,
            });
            periodMs = stat.Period * 1000;
          } else {
            queries.push({
              id: String(q.Id),
              expression: parseExpression(String(q.Expression)),
              returnData: q.ReturnData !== false,
              periodMs: Number(q.Period ?? 0) * 1000 || undefined,
            });
          }
        }
      } else {
        queries.push({
          id: 'm',
          key: metricKey(String(props.Namespace), String(props.MetricName), dimensionsOf(props.Dimensions)),
          stat: String(props.Statistic ?? props.ExtendedStatistic),
          periodMs,
          returnData: true,
        });
      }
      const expressionPeriod = queries.find((q) => q.expression && q.periodMs)?.periodMs;
      alarms.push({
        kind: 'metric',
        logicalId,
        name: settingsName(logicalId),
        severity: severityOf(resources, props),
        description: String(props.AlarmDescription ?? ''),
        periodMs: expressionPeriod ?? periodMs,
        evaluationPeriods: Number(props.EvaluationPeriods),
        datapointsToAlarm: Number(props.DatapointsToAlarm ?? props.EvaluationPeriods),
        threshold: Number(props.Threshold),
        comparison: String(props.ComparisonOperator),
        missing: String(props.TreatMissingData ?? 'missing'),
        queries,
      });
    }
    if (resource.Type === 'AWS::CloudWatch::CompositeAlarm') {
      const ruleText = joinRule(props.AlarmRule);
      const { rule, children } = parseAlarmRule(ruleText);
      alarms.push({
        kind: 'composite',
        logicalId,
        name: settingsName(logicalId),
        severity: severityOf(resources, props),
        description: String(props.AlarmDescription ?? ''),
        rule,
        children,
      });
    }
  }
  return alarms;
}

/** A composite rule as text, with each alarm's ARN replaced by `arn:<logicalId>`. */
function joinRule(rule: unknown): string {
  if (typeof rule === 'string') return rule;
  const join = (rule as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (!join) throw new Error(`alarm rule ${JSON.stringify(rule)} is not modelled`);
  return join[1]
    .map((part) => {
      if (typeof part === 'string') return part;
      const getAtt = (part as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
      if (getAtt) return `arn:${getAtt[0]}`;
      throw new Error(`alarm rule part ${JSON.stringify(part)} is not modelled`);
    })
    .join(join[0]);
}

/** ALARM("arn") / OK("arn") joined with AND, OR, NOT and parentheses. */
function parseAlarmRule(text: string): { rule: CompositeAlarm['rule']; children: string[] } {
  const tokens = text.match(/\(|\)|AND|OR|NOT|(?:ALARM|OK|INSUFFICIENT_DATA)\("[^"]+"\)|TRUE|FALSE/g) ?? [];
  let i = 0;
  const children: string[] = [];
  type Rule = CompositeAlarm['rule'];
  const or = (): Rule => {
    let left = and();
    while (tokens[i] === 'OR') {
      i++;
      const l = left;
      const r = and();
      left = (s) => l(s) || r(s);
    }
    return left;
  };
  const and = (): Rule => {
    let left = not();
    while (tokens[i] === 'AND') {
      i++;
      const l = left;
      const r = not();
      left = (s) => l(s) && r(s);
    }
    return left;
  };
  const not = (): Rule => {
    if (tokens[i] === 'NOT') {
      i++;
      const inner = not();
      return (s) => !inner(s);
    }
    const token = tokens[i++];
    if (token === '(') {
      const inner = or();
      i++;
      return inner;
    }
    const m = /^(ALARM|OK|INSUFFICIENT_DATA)\("arn:([^"]+)"\)$/.exec(token ?? '');
    if (!m) throw new Error(`alarm rule "${text}" is not modelled`);
    const [, state, child] = m;
    children.push(child!);
    return (s) => s(child!) === state;
  };
  return { rule: or(), children };
}

export interface Notification {
  at: number;
  alarm: string;
  severity: Severity;
  state: AlarmState;
  description: string;
}

/** Evaluates every alarm at the end of each minute and records the notifications their actions would send. */
export class AlarmEvaluator {
  private readonly state = new Map<string, AlarmState>();
  readonly notifications: Notification[] = [];

  /**
   * @param since the simulation's start: periods that begin before it count as healthy history (the stack was
   * running before the simulated day; nothing the alarms saw then was wrong).
   */
  constructor(
    private readonly alarms: AlarmDefinition[],
    private readonly store: MetricStore,
    private readonly since = -Infinity,
  ) {
    for (const alarm of alarms) this.state.set(alarm.logicalId, 'OK');
  }

  stateOf(logicalId: string): AlarmState {
    return this.state.get(logicalId) ?? 'OK';
  }

  /** Evaluates at `end` (ms, a minute boundary). */
  evaluate(end: number): void {
    for (const alarm of this.alarms)
      if (alarm.kind === 'metric') this.transition(alarm, this.metricState(alarm, end), end);
    for (const alarm of this.alarms)
      if (alarm.kind === 'composite')
        this.transition(alarm, alarm.rule((id) => this.stateOf(id)) ? 'ALARM' : 'OK', end);
  }

  /** The value an alarm compares with its threshold for the period ending at `end`. */
  datapoint(alarm: MetricAlarm, end: number): Datapoint {
    const values = new Map<string, Datapoint>();
    const lookup = (id: string): Datapoint => {
      if (values.has(id)) return values.get(id);
      const query = alarm.queries.find((q) => q.id === id);
      if (!query) throw new Error(`alarm ${alarm.logicalId}: no metric ${id}`);
      const period = query.periodMs ?? alarm.periodMs;
      const value = query.expression
        ? evaluateExpression(query.expression, lookup)
        : this.store.statistic(query.key!, query.stat!, end - period, end);
      values.set(id, value);
      return value;
    };
    const returned = alarm.queries.filter((q) => q.returnData);
    if (returned.length !== 1) throw new Error(`alarm ${alarm.logicalId}: ${returned.length} returned series`);
    return lookup(returned[0]!.id);
  }

  private metricState(alarm: MetricAlarm, end: number): AlarmState {
    let breaching = 0;
    let present = 0;
    for (let k = 0; k < alarm.evaluationPeriods; k++) {
      if (end - (k + 1) * alarm.periodMs < this.since) {
        present++;
        continue;
      }
      const value = this.datapoint(alarm, end - k * alarm.periodMs);
      if (value === undefined) {
        if (alarm.missing === 'breaching') breaching++;
        if (alarm.missing === 'ignore' || alarm.missing === 'missing') continue;
        present++;
        continue;
      }
      present++;
      if (breaches(alarm.comparison, value, alarm.threshold)) breaching++;
    }
    if (present === 0 && (alarm.missing === 'ignore' || alarm.missing === 'missing'))
      return this.stateOf(alarm.logicalId);
    return breaching >= alarm.datapointsToAlarm ? 'ALARM' : 'OK';
  }

  private transition(alarm: AlarmDefinition, next: AlarmState, at: number): void {
    if (this.stateOf(alarm.logicalId) === next) return;
    this.state.set(alarm.logicalId, next);
    if (alarm.severity !== 'none') {
      this.notifications.push({
        at,
        alarm: alarm.name,
        severity: alarm.severity,
        state: next,
        description: alarm.description,
      });
    }
  }
}

function breaches(comparison: string, value: number, threshold: number): boolean {
  switch (comparison) {
    case 'GreaterThanThreshold':
      return value > threshold;
    case 'GreaterThanOrEqualToThreshold':
      return value >= threshold;
    case 'LessThanThreshold':
      return value < threshold;
    case 'LessThanOrEqualToThreshold':
      return value <= threshold;
  }
  throw new Error(`comparison ${comparison} is not modelled`);
}
