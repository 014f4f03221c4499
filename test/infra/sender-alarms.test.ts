import type { Template } from 'aws-cdk-lib/assertions';
import { DEFAULT_ALARMS } from '../../lambdas/domain/alert-settings';
import { SweeperEnv } from '../../lambdas/domain/function-environment';
import { MAX_SENDERS, SENDER_ALARM_METRICS, senderHealthMonthlyCost } from '../../lambdas/domain/sender-health';
import { readEnv } from '../../lambdas/shared/env';
import { loadConfig } from '../../lib/config';
import { synthStack } from '../support/cdk';

type AlarmProps = {
  AlarmName?: string;
  AlarmDescription: string;
  Threshold: number;
  ComparisonOperator: string;
  AlarmActions: unknown[];
  Metrics: {
    Id: string;
    Expression?: string;
    ReturnData?: boolean;
    MetricStat?: { Metric: { MetricName: string; Dimensions: { Name: string; Value: unknown }[] }; Period: number };
  }[];
};

const SENDERS = [
  { id: '106540352242922', name: 'IN marketing', alarms: true },
  { id: 'aisensy-project-1', name: 'Support', alarms: false },
];

const alarms = (template: Template) =>
  Object.entries(template.findResources('AWS::CloudWatch::Alarm')) as [string, { Properties: AlarmProps }][];
const senderAlarms = (template: Template) => alarms(template).filter(([id]) => /^AlarmsSender\d+/.test(id));

describe('alarms per sender', () => {
  const plain = synthStack().template;
  const withSenders = synthStack({ senderHealth: SENDERS }).template;

  it('creates none without senders, and none for a sender listed with alarms: false', () => {
    expect(senderAlarms(plain)).toEqual([]);
    const found = senderAlarms(withSenders);
    expect(found.map(([id]) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual([
      'AlarmsSender1DeliveryRate',
      'AlarmsSender1DeliveryTime',
      'AlarmsSender1ReadRate',
      'AlarmsSender1Undelivered',
    ]);
    expect(found.some(([, a]) => JSON.stringify(a).includes('aisensy-project-1'))).toBe(false);
  });

  it('names the sender in the alarm name (the notification subject) and description', () => {
    const names = senderAlarms(withSenders).map(([, a]) => a.Properties.AlarmName);
    expect(names.sort()).toEqual([
      'Tracker deliveryRate sender IN marketing (106540352242922)',
      'Tracker deliveryTime sender IN marketing (106540352242922)',
      'Tracker readRate sender IN marketing (106540352242922)',
      'Tracker undelivered sender IN marketing (106540352242922)',
    ]);
    for (const [, a] of senderAlarms(withSenders))
      expect(a.Properties.AlarmDescription).toMatch(
        /^\[(critical|warning)\] Sender IN marketing \(106540352242922\): /,
      );
  });

  it("reads the global alarm's metric math over the sender's metrics (Sender dimension), with the same settings", () => {
    const global = Object.fromEntries(
      alarms(withSenders)
        .filter(([id]) => /^Alarms(DeliveryRate|Undelivered|ReadRate|DeliveryTime)[0-9A-F]{8}$/.test(id))
        .map(([id, a]) => [id.replace(/^Alarms|[0-9A-F]{8}$/g, ''), a.Properties]),
    );
    for (const [id, { Properties: a }] of senderAlarms(withSenders)) {
      const name = id.replace(/^AlarmsSender1|[0-9A-F]{8}$/g, '');
      const g = global[name]!;
      expect([name, a.Threshold, a.ComparisonOperator, a.AlarmActions]).toEqual([
        name,
        g.Threshold,
        g.ComparisonOperator,
        g.AlarmActions,
      ]);
      const expressionOf = (p: AlarmProps) => p.Metrics.find((m) => m.Expression)?.Expression;
      expect(expressionOf(a)).toBe(expressionOf(g));
      const stats = a.Metrics.flatMap((m) => (m.MetricStat ? [m.MetricStat.Metric] : []));
      const alarmName = (name[0]!.toLowerCase() + name.slice(1)) as keyof typeof SENDER_ALARM_METRICS;
      expect(stats.map((s) => s.MetricName).sort()).toEqual([...SENDER_ALARM_METRICS[alarmName]].sort());
      for (const s of stats)
        expect(s.Dimensions).toEqual([
          { Name: 'Sender', Value: '106540352242922' },
          { Name: 'service', Value: 'Tracker' },
        ]);
    }
  });

  it('leaves out a per-sender alarm that is disabled globally', () => {
    const template = synthStack({
      senderHealth: SENDERS,
      alarms: JSON.stringify({ readRate: { enabled: false } }),
    }).template;
    expect(senderAlarms(template).map(([id]) => id.replace(/[0-9A-F]{8}$/, ''))).not.toContain('AlarmsSender1ReadRate');
    expect(senderAlarms(template)).toHaveLength(3);
  });

  it('passes the senders to the sweeper as SENDER_HEALTH', () => {
    const fn = Object.values(withSenders.findResources('AWS::Lambda::Function')).find((f) =>
      JSON.stringify(f).includes('SENDER_HEALTH'),
    ) as { Properties: { Environment: { Variables: Record<string, string> } } } | undefined;
    const text = fn!.Properties.Environment.Variables.SENDER_HEALTH!;
    expect(JSON.parse(text)).toEqual([
      ['106540352242922', 'IN marketing', 1],
      ['aisensy-project-1', 'Support', 0],
    ]);
    // What the sweeper reads back (its handler: readEnv(SweeperEnv)).
    expect(readEnv(SweeperEnv, { SUPABASE_SECRET_ID: 's', SENDER_HEALTH: text }).SENDER_HEALTH).toEqual(SENDERS);
  });

  it("keeps the sweeper's environment under Lambda's 4 KB with the most and longest senders allowed", () => {
    const longest = Array.from({ length: MAX_SENDERS }, (_, i) => ({
      id: `${'9'.repeat(62)}${String(i).padStart(2, '0')}`,
      name: 'N'.repeat(40),
      alarms: false,
    }));
    const template = synthStack({
      senderHealth: longest,
      retentionDays: 3650,
      runbookUrl: `https://example.com/${'r'.repeat(100)}`,
    }).template;
    const fn = Object.values(template.findResources('AWS::Lambda::Function')).find((f) =>
      JSON.stringify(f).includes('SENDER_HEALTH'),
    ) as { Properties: { Environment: { Variables: Record<string, unknown> } } };
    // Keys and values as Lambda counts them; a reference (a topic's ARN, the bucket's name) resolves to at most 256.
    const size = Object.entries(fn.Properties.Environment.Variables).reduce(
      (sum, [key, value]) => sum + key.length + (typeof value === 'string' ? value.length : 256),
      0,
    );
    expect(size).toBeLessThan(4_096);
  });

  it('refuses a sender listed twice, an unknown key and a bad id, naming them', () => {
    expect(() => loadConfig({ senderHealth: [SENDERS[0], SENDERS[0]] }, {})).toThrow(/listed twice/);
    expect(() => loadConfig({ senderHealth: [{ id: '1', name: 'x', alarm: true }] }, {})).toThrow(
      /"alarm" is not a setting \(did you mean "alarms"\?\)/,
    );
    expect(() => loadConfig({ senderHealth: [{ id: 'has space', name: 'x' }] }, {})).toThrow(/senderHealth\.0\.id/);
  });

  it('costs $2.40 a month per sender in metrics, plus $0.80 per sender with alarms', () => {
    expect(senderHealthMonthlyCost(SENDERS, DEFAULT_ALARMS)).toEqual({
      metrics: 16,
      alarms: 4,
      alarmMetrics: 8,
      dollarsPerMonth: 5.6,
    });
  });
});
