import { Match, type Template } from 'aws-cdk-lib/assertions';
import { actionsOf, statementsOf, synthStack } from '../support/cdk';

const synth = (context: Record<string, unknown> = {}): Template => synthStack(context).template;

/** The alarm whose logical id starts with `Alarms<Name>`. */
function alarm(template: Template, name: string) {
  const found = Object.entries(template.findResources('AWS::CloudWatch::Alarm')).find(([id]) => id.startsWith(`Alarms${name}`));
  if (!found) throw new Error(`no alarm ${name}`);
  return found[1].Properties;
}
const topicRef = (severity: string) => ({ Ref: expect.stringMatching(new RegExp(`^AlertTopics${severity}`)) });

describe('alarms', () => {
  const template = synth();

  it.each([
    // name, severity, metric, statistic, threshold, comparison, period s, evaluation periods, missing data
    ['DeliveryRate', 'Critical', 'DeliveryRate', 'Minimum', 90, 'LessThanThreshold', 300, 3, 'notBreaching'],
    ['Undelivered', 'Critical', 'UndeliveredMessages', 'Maximum', 10, 'GreaterThanThreshold', 300, 2, 'notBreaching'],
    ['SweeperNotRunning', 'Critical', 'SweeperRuns', 'SampleCount', 1, 'LessThanThreshold', 900, 1, 'breaching'],
    ['ReadRate', 'Warning', 'ReadRate', 'Minimum', 50, 'LessThanThreshold', 1800, 2, 'notBreaching'],
    ['DeliveryTime', 'Warning', 'AvgDeliveryTime', 'Maximum', 30, 'GreaterThanThreshold', 300, 3, 'notBreaching'],
  ])('%s (%s): %s %s vs %d, %s, %ds x %d, missing data %s', (name, severity, metric, statistic, threshold, comparison, period, evaluations, missing) => {
    expect(alarm(template, name)).toMatchObject({
      Namespace: 'WhatsAppDeliveryTracker',
      MetricName: metric,
      Dimensions: [{ Name: 'service', Value: 'whatsapp-delivery-tracker' }],
      Statistic: statistic,
      Threshold: threshold,
      ComparisonOperator: comparison,
      Period: period,
      EvaluationPeriods: evaluations,
      DatapointsToAlarm: evaluations,
      TreatMissingData: missing,
      AlarmActions: [topicRef(severity)],
      OKActions: [topicRef(severity)],
      AlarmDescription: expect.stringMatching(new RegExp(`^\\[${severity.toLowerCase()}\\]`)),
    });
  });

  it('slow database calls: p99 of the call duration above 1,000 ms (warning)', () => {
    expect(alarm(template, 'SlowDatabase')).toMatchObject({
      MetricName: 'DatabaseCallDuration',
      ExtendedStatistic: 'p99',
      Threshold: 1000,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [topicRef('Warning')],
    });
  });

  it('database errors: processor failures, and messages in the dead-letter queue (critical)', () => {
    expect(alarm(template, 'DatabaseErrors')).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: expect.stringMatching(/^ProcessorFunction/) } }],
      AlarmActions: [topicRef('Critical')],
    });
    expect(alarm(template, 'DeadLetters')).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 1,
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [expect.stringMatching(/^StatusQueueDeadLetterQueue/), 'QueueName'] } }],
      AlarmActions: [topicRef('Critical')],
    });
  });

  it('webhook errors: API 5xx plus ingest errors through metric math (critical)', () => {
    const props = alarm(template, 'WebhookErrors');
    expect(props).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', TreatMissingData: 'notBreaching', AlarmActions: [topicRef('Critical')] });
    const expression = props.Metrics.find((m: { Expression?: string }) => m.Expression);
    expect(expression.Expression).toBe('FILL(api5xx, 0) + FILL(ingestErrors, 0)');
    const names = props.Metrics.filter((m: { MetricStat?: unknown }) => m.MetricStat).map((m: { MetricStat: { Metric: { MetricName: string } } }) => m.MetricStat.Metric.MetricName);
    expect(names.sort()).toEqual(['5XXError', 'Errors']);
  });

  it('operational: oldest queued message, throttles, webhook silence (warning)', () => {
    expect(alarm(template, 'QueueAge')).toMatchObject({ MetricName: 'ApproximateAgeOfOldestMessage', Threshold: 600, ComparisonOperator: 'GreaterThanThreshold' });
    expect(alarm(template, 'Throttles').Metrics.find((m: { Expression?: string }) => m.Expression).Expression).toBe('FILL(i, 0) + FILL(p, 0) + FILL(s, 0)');
    expect(alarm(template, 'WebhookSilence')).toMatchObject({
      Namespace: 'AWS/ApiGateway',
      MetricName: 'Count',
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      Period: 3600,
      EvaluationPeriods: 6,
      TreatMissingData: 'breaching',
      AlarmActions: [topicRef('Warning')],
    });
  });

  it('has exactly the twelve alarms', () => {
    expect(Object.keys(template.findResources('AWS::CloudWatch::Alarm'))).toHaveLength(12);
  });

  it('takes thresholds, periods and evaluation periods from config, and can leave an alarm out', () => {
    const custom = synth({ alarms: JSON.stringify({ deliveryRate: { threshold: 85, periodMinutes: 10, evaluationPeriods: 2 }, webhookSilence: { enabled: false } }) });
    expect(alarm(custom, 'DeliveryRate')).toMatchObject({ Threshold: 85, Period: 600, EvaluationPeriods: 2 });
    expect(Object.keys(custom.findResources('AWS::CloudWatch::Alarm')).some((id) => id.startsWith('AlarmsWebhookSilence'))).toBe(false);
  });
});

describe('topics and sweeper', () => {
  const template = synth({ criticalAlarmEmails: 'oncall@example.com', summaryEmails: 'team@example.com,boss@example.com' });

  it('has one TLS-only topic per severity with the configured email subscriptions', () => {
    expect(Object.keys(template.findResources('AWS::SNS::Topic'))).toHaveLength(3);
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com', TopicArn: { Ref: Match.stringLikeRegexp('^AlertTopicsCritical') } });
    expect(Object.keys(template.findResources('AWS::SNS::Subscription', { Properties: { TopicArn: { Ref: Match.stringLikeRegexp('^AlertTopicsInfo') } } }))).toHaveLength(2);
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
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

  it('lets the sweeper read the Supabase secret and publish to the info topic only', () => {
    const statements = statementsOf(template, 'SweeperFunctionServiceRole');
    const publish = statements.find((s) => s.Action === 'sns:Publish');
    expect(publish?.Resource).toEqual({ Ref: expect.stringMatching(/^AlertTopicsInfo/) });
    expect(actionsOf(statements)).toEqual([
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
      'sns:Publish',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
  });

  it('builds a dashboard with rates, latency, throughput by status, errors, queue and alarms', () => {
    const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
    expect(dashboards).toHaveLength(1);
    const body = JSON.stringify(dashboards[0]?.Properties.DashboardBody);
    for (const expected of ['DeliveryRate', 'ReadRate', 'DeliveryLatency', 'StatusesApplied', '\\"Status\\",\\"read\\"', '5XXError', 'ApproximateNumberOfMessagesVisible', 'ApproximateAgeOfOldestMessage', 'DatabaseCallDuration', 'alarm']) {
      expect(body).toContain(expected);
    }
  });
});
