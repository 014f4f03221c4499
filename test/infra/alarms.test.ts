import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { CLOUDWATCH_ALARMS, DEFAULT_ALARMS, sweeperSettingsFromEnvironment } from '../../lambdas/domain/alert-settings';
import { loadConfig } from '../../lib/config';
import { RUNBOOK_ANCHORS } from '../../lib/constructs/delivery-alarms';
import { type MetricAlarm, readAlarms } from '../../tools/alert-simulation/cloudwatch';
import { actionsOf, statementsOf, synthStack } from '../support/cdk';

const synth = (context: Record<string, unknown> = {}): Template => synthStack(context).template;

/** The alarm whose logical id starts with `Alarms<Name>` (the settings' name, upper-cased). */
function alarm(template: Template, name: string) {
  const found = Object.entries(template.findResources('AWS::CloudWatch::Alarm')).find(([id]) =>
    new RegExp(`^Alarms${name}[0-9A-F]{8}$`).test(id),
  );
  if (!found) throw new Error(`no alarm ${name}`);
  return found[1].Properties;
}
const topicRef = (severity: string) => ({ Ref: expect.stringMatching(new RegExp(`^AlertTopics${severity}`)) });
const expression = (props: { Metrics: { Expression?: string; ReturnData?: boolean }[] }) =>
  props.Metrics.find((m) => m.Expression && m.ReturnData !== false)?.Expression;

describe('alarms', () => {
  const template = synth();

  it.each([
    // name, severity, threshold, comparison, period s, evaluation periods, datapoints to alarm, missing data
    ['DeliveryRate', 'Critical', 80, 'LessThanThreshold', 300, 2, 2, 'notBreaching'],
    ['Undelivered', 'Critical', 20, 'GreaterThanThreshold', 300, 2, 2, 'notBreaching'],
    ['WebhooksRefused', 'Critical', 50, 'GreaterThanOrEqualToThreshold', 300, 2, 2, 'notBreaching'],
    ['DatabaseErrors', 'Critical', 1, 'GreaterThanOrEqualToThreshold', 300, 2, 2, 'notBreaching'],
    ['WebhookErrors', 'Critical', 1, 'GreaterThanOrEqualToThreshold', 300, 2, 2, 'notBreaching'],
    ['ReadRate', 'Warning', 40, 'LessThanThreshold', 1800, 2, 2, 'notBreaching'],
    ['DeliveryTime', 'Warning', 30, 'GreaterThanThreshold', 300, 3, 3, 'notBreaching'],
    ['Throttles', 'Warning', 1, 'GreaterThanOrEqualToThreshold', 300, 2, 2, 'notBreaching'],
  ])(
    '%s (%s): %d, %s, %ds x %d (%d to alarm), missing data %s',
    (name, severity, threshold, comparison, period, evaluations, datapoints, missing) => {
      const props = alarm(template, name);
      expect(props).toMatchObject({
        Threshold: threshold,
        ComparisonOperator: comparison,
        EvaluationPeriods: evaluations,
        DatapointsToAlarm: datapoints,
        TreatMissingData: missing,
        AlarmActions: [topicRef(severity)],
        OKActions: [topicRef(severity)],
        AlarmDescription: expect.stringMatching(new RegExp(`^\\[${severity.toLowerCase()}\\]`)),
      });
      for (const m of props.Metrics) if (m.MetricStat) expect(m.MetricStat.Period).toBe(period);
    },
  );

  it('judges rates only over a large enough cohort: the minimum cohort is in the metric math', () => {
    expect(expression(alarm(template, 'DeliveryRate'))).toBe('IF(FILL(cohort, 0) >= 50, FILL(rate, 100), 100)');
    expect(expression(alarm(template, 'Undelivered'))).toBe('IF(FILL(cohort, 0) >= 50, FILL(share, 0), 0)');
    expect(expression(alarm(template, 'ReadRate'))).toBe('IF(FILL(cohort, 0) >= 200, FILL(rate, 100), 100)');
    const custom = synth({ alarms: JSON.stringify({ deliveryRate: { minCohort: 500 } }) });
    expect(expression(alarm(custom, 'DeliveryRate'))).toBe('IF(FILL(cohort, 0) >= 500, FILL(rate, 100), 100)');
  });

  it('refused webhooks: the larger of the API 4xx share and the rejected-status share', () => {
    const props = alarm(template, 'WebhooksRefused');
    expect(expression(props)).toBe('IF(refused > rejected, refused, rejected)');
    const names = props.Metrics.filter((m: { MetricStat?: unknown }) => m.MetricStat).map(
      (m: { MetricStat: { Metric: { MetricName: string } } }) => m.MetricStat.Metric.MetricName,
    );
    expect(names.sort()).toEqual(['4XXError', 'Count', 'ItemsRejected', 'StatusesAccepted']);
  });

  it('database errors count failed processor invocations and the DatabaseErrors the processor and sweeper publish', () => {
    const props = alarm(template, 'DatabaseErrors');
    expect(expression(props)).toBe('FILL(databaseErrors, 0) + FILL(processorErrors, 0)');
    const processorErrors = props.Metrics.find((m: { Id: string }) => m.Id === 'processorErrors').MetricStat.Metric;
    expect(processorErrors).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: expect.stringMatching(/^ProcessorFunction/) } }],
    });
  });

  it('sweeper not running, slow database (p90, 2 of 3), API latency against the 5-second deadline', () => {
    expect(alarm(template, 'SweeperNotRunning')).toMatchObject({
      MetricName: 'SweeperRuns',
      Statistic: 'SampleCount',
      Threshold: 1,
      Period: 600,
      TreatMissingData: 'breaching',
      AlarmActions: [topicRef('Critical')],
    });
    expect(alarm(template, 'SlowDatabase')).toMatchObject({
      ExtendedStatistic: 'p90',
      Threshold: 1000,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
      AlarmActions: [topicRef('Warning')],
    });
    expect(alarm(template, 'ApiLatency')).toMatchObject({
      Namespace: 'AWS/ApiGateway',
      MetricName: 'Latency',
      ExtendedStatistic: 'p99',
      Threshold: 3000,
      AlarmActions: [topicRef('Warning')],
    });
    expect(alarm(template, 'AccountNotifications')).toMatchObject({
      Namespace: 'WhatsAppDeliveryTracker',
      MetricName: 'AccountNotificationFailures',
      Statistic: 'Sum',
      Threshold: 1,
      Period: 300,
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
      AlarmActions: [topicRef('Critical')],
    });
    expect(alarm(template, 'DailySummary')).toMatchObject({
      MetricName: 'DailySummaryFailures',
      AlarmActions: [topicRef('Warning')],
    });
    expect(alarm(template, 'WebhookAbsent')).toMatchObject({
      MetricName: 'Count',
      Period: 3600,
      EvaluationPeriods: 24,
      TreatMissingData: 'breaching',
      AlarmActions: [topicRef('Warning')],
    });
  });

  it('archive failures (warning): ArchiveFailures the ingest counts, or Firehose holding records over an hour', () => {
    const props = alarm(template, 'ArchiveFailures');
    expect(props).toMatchObject({
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
      AlarmActions: [topicRef('Warning')],
    });
    expect(expression(props)).toBe('FILL(failures, 0) + IF(FILL(freshness, 0) > 3600, 1, 0)');
    const metrics = props.Metrics.filter((m: { MetricStat?: unknown }) => m.MetricStat).map(
      (m: { MetricStat: { Metric: { Namespace: string; MetricName: string } } }) =>
        `${m.MetricStat.Metric.Namespace}/${m.MetricStat.Metric.MetricName}`,
    );
    expect(metrics.sort()).toEqual([
      'AWS/Firehose/DeliveryToS3.DataFreshness',
      'WhatsAppDeliveryTracker/ArchiveFailures',
    ]);
    const custom = synth({ alarms: JSON.stringify({ archiveFailures: { maxDeliveryAgeMinutes: 15 } }) });
    expect(expression(alarm(custom, 'ArchiveFailures'))).toBe('FILL(failures, 0) + IF(FILL(freshness, 0) > 900, 1, 0)');
  });

  it('webhook silence: a composite of "no request for 15 minutes" and "a busy period in the last hour", paging critical', () => {
    const composite = Object.values(template.findResources('AWS::CloudWatch::CompositeAlarm'));
    expect(composite).toHaveLength(1);
    expect(composite[0]!.Properties.AlarmActions).toEqual([topicRef('Critical')]);
    const rule = JSON.stringify(composite[0]!.Properties.AlarmRule);
    expect(rule).toMatch(/AlarmsWebhookSilenceQuiet.*AND.*AlarmsWebhookSilenceBusy/);
    expect(alarm(template, 'WebhookSilenceQuiet')).toMatchObject({
      MetricName: 'Count',
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      Period: 300,
      EvaluationPeriods: 3,
      TreatMissingData: 'breaching',
    });
    expect(alarm(template, 'WebhookSilenceBusy')).toMatchObject({
      MetricName: 'Count',
      Threshold: 100,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Period: 300,
      EvaluationPeriods: 12,
      DatapointsToAlarm: 1,
    });
    // The parts notify nobody on their own.
    expect(alarm(template, 'WebhookSilenceQuiet').AlarmActions).toBeUndefined();
    expect(alarm(template, 'WebhookSilenceBusy').AlarmActions).toBeUndefined();
  });

  it('has every alarm of the settings, each notifying exactly one severity topic', () => {
    const notifying = readAlarms(template.toJSON())
      .filter((a) => a.severity !== 'none')
      .map((a) => a.name)
      .sort();
    expect(notifying).toEqual([...CLOUDWATCH_ALARMS].sort());
  });

  it('takes thresholds, periods and evaluation periods from config, and can leave an alarm out', () => {
    const custom = synth({
      alarms: JSON.stringify({
        deliveryRate: { threshold: 85, periodMinutes: 10, evaluationPeriods: 3 },
        webhookSilence: { enabled: false },
      }),
    });
    expect(alarm(custom, 'DeliveryRate')).toMatchObject({ Threshold: 85, EvaluationPeriods: 3, DatapointsToAlarm: 3 });
    expect(
      alarm(custom, 'DeliveryRate').Metrics.find((m: { MetricStat?: unknown }) => m.MetricStat).MetricStat.Period,
    ).toBe(600);
    expect(Object.keys(custom.findResources('AWS::CloudWatch::CompositeAlarm'))).toEqual([]);
  });

  describe('runbooks in every notification', () => {
    const runbook = readFileSync(path.resolve(__dirname, '../../docs/runbook.md'), 'utf8');
    // GitHub's heading anchors: lower case, spaces to hyphens, punctuation dropped.
    const anchors = new Set(
      [...runbook.matchAll(/^#+ (.+)$/gm)].map((m) =>
        m[1]!
          .toLowerCase()
          .replace(/[^a-z0-9 -]/g, '')
          .replace(/ /g, '-'),
      ),
    );

    const defined = readAlarms(synth({ runbookUrl: 'https://runbooks.example.com/tracker.md' }).toJSON());

    it.each(CLOUDWATCH_ALARMS.map((name) => [name]))(
      '%s: what it means, two checks and the runbook section, which exists',
      (name) => {
        const found = defined.find((a) => a.name === name && a.severity !== 'none');
        expect(found?.description).toMatch(
          /^\[(critical|warning)\] .+ Check 1: .+ Check 2: .+ Runbook: https:\/\/runbooks\.example\.com\/tracker\.md#[a-z-]+$/,
        );
        expect(found?.description.length).toBeLessThanOrEqual(1024);
        const anchor = RUNBOOK_ANCHORS[name];
        expect(found?.description.endsWith(`#${anchor}`)).toBe(true);
        expect(anchors.has(anchor)).toBe(true);
      },
    );

    it('the failure-spike notification links a section that exists', () => {
      expect(anchors.has('failure-spike')).toBe(true);
    });
  });
});

describe('one home for alarm and cohort settings', () => {
  it('every value the stack config accepts is accepted by the sweeper: bounds of every cohort key, read back from the template', () => {
    const lowest = {
      sweeperIntervalMinutes: 1,
      deliveryWindowMinutes: 5,
      deliveryGraceMinutes: 0,
      readWindowHours: 1,
      readGraceMinutes: 0,
      undeliveredAfterMinutes: 1,
      undeliveredWithinMinutes: 2,
    };
    const highest = {
      sweeperIntervalMinutes: 60,
      deliveryWindowMinutes: 1440,
      deliveryGraceMinutes: 1440,
      readWindowHours: 168,
      readGraceMinutes: 1440,
      undeliveredAfterMinutes: 1440,
      undeliveredWithinMinutes: 10080,
    };
    const slowAlarms = JSON.stringify({
      deliveryRate: { periodMinutes: 60 },
      undelivered: { periodMinutes: 60 },
      readRate: { periodMinutes: 60 },
      deliveryTime: { periodMinutes: 60, evaluationPeriods: 3 },
      sweeperNotRunning: { periodMinutes: 120 },
      failureSpike: { threshold: 0, minCohort: 1 },
    });
    for (const context of [lowest, { ...highest, alarms: slowAlarms }]) {
      const { template, config } = synthStack(context);
      const sweeper = Object.entries(template.findResources('AWS::Lambda::Function')).find(([id]) =>
        id.startsWith('SweeperFunction'),
      )![1];
      const read = sweeperSettingsFromEnvironment(sweeper.Properties.Environment.Variables);
      expect(read.cohorts).toEqual(
        Object.fromEntries(Object.keys(lowest).map((k) => [k, config[k as keyof typeof lowest]])),
      );
      expect(read.failureSpike).toEqual(config.alarms.failureSpike);
    }
  });

  it.each([
    [
      { sweeperIntervalMinutes: 10 },
      /alarms\.deliveryRate\.periodMinutes \(5\) is shorter than sweeperIntervalMinutes \(10\)/,
    ],
    [
      { sweeperIntervalMinutes: 6 },
      /alarms\.sweeperNotRunning\.periodMinutes \(10\) must be at least twice sweeperIntervalMinutes \(6\)/,
    ],
    [
      { undeliveredWithinMinutes: 10 },
      /undeliveredWithinMinutes \(10\) must be longer than undeliveredAfterMinutes \(10\)/,
    ],
    [
      { alarms: JSON.stringify({ slowDatabase: { datapointsToAlarm: 4 } }) },
      /alarms\.slowDatabase\.datapointsToAlarm \(4\) cannot exceed evaluationPeriods \(3\)/,
    ],
    [{ deliveryGraceMinutes: -1 }, /deliveryGraceMinutes/],
  ])('a combination that cannot work fails the synth, naming the keys: %p', (context, message) => {
    expect(() => loadConfig(context as Record<string, unknown>, {})).toThrow(message);
  });

  it('deliveryGraceMinutes=0 is accepted by the config and by the sweeper alike (it used to fail every cold start)', () => {
    const config = loadConfig({ deliveryGraceMinutes: 0 }, {});
    expect(
      sweeperSettingsFromEnvironment({ DELIVERY_GRACE_MINUTES: String(config.deliveryGraceMinutes) }).cohorts
        .deliveryGraceMinutes,
    ).toBe(0);
  });

  it('the defaults in the settings module are the ones deployed', () => {
    const read = readAlarms(synth().toJSON()).find((a): a is MetricAlarm => a.name === 'queueAge')!;
    expect(read.threshold).toBe(DEFAULT_ALARMS.queueAge.threshold);
  });
});

describe('topics and sweeper', () => {
  const template = synth({
    criticalAlarmEmails: 'oncall@example.com',
    summaryEmails: 'team@example.com,boss@example.com',
  });

  it('has one TLS-only topic per severity with the configured email subscriptions', () => {
    expect(Object.keys(template.findResources('AWS::SNS::Topic'))).toHaveLength(3);
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
      TopicArn: { Ref: Match.stringLikeRegexp('^AlertTopicsCritical') },
    });
    expect(
      Object.keys(
        template.findResources('AWS::SNS::Subscription', {
          Properties: { TopicArn: { Ref: Match.stringLikeRegexp('^AlertTopicsInfo') } },
        }),
      ),
    ).toHaveLength(2);
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('runs the sweeper every 5 minutes for health and daily at 08:00 UTC for the summary', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      Targets: [Match.objectLike({ Input: JSON.stringify({ kind: 'health' }) })],
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'cron(0 8 * * ? *)',
      Targets: [Match.objectLike({ Input: JSON.stringify({ kind: 'daily-summary' }) })],
    });
  });

  it('lets the sweeper read the Supabase secret, publish to the info (summary) and warning (failure spike) topics, and write and share reports (report-bucket.test.ts) only', () => {
    const statements = statementsOf(template, 'SweeperFunctionServiceRole');
    const published = statements
      .filter((s) => s.Action === 'sns:Publish')
      .map((s) => (s.Resource as { Ref: string }).Ref.replace(/[0-9A-F]{8}$/, ''));
    expect(published.sort()).toEqual(['AlertTopicsInfo', 'AlertTopicsWarning']);
    expect(actionsOf(statements)).toEqual([
      's3:GetObject',
      's3:PutObject',
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
      'sns:Publish',
      'sns:Publish',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
  });

  it('builds a dashboard with rates, latency, throughput by status, errors, queue and alarms', () => {
    const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
    expect(dashboards).toHaveLength(1);
    const body = JSON.stringify(dashboards[0]?.Properties.DashboardBody);
    for (const expected of [
      'DeliveryRate',
      'ReadRate',
      'DeliveryLatency',
      'StatusesApplied',
      '\\"Status\\",\\"read\\"',
      '5XXError',
      'ApproximateNumberOfMessagesVisible',
      'ApproximateAgeOfOldestMessage',
      'DatabaseCallDuration',
      'alarm',
    ]) {
      expect(body).toContain(expected);
    }
  });
});
