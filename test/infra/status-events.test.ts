import { Match } from 'aws-cdk-lib/assertions';
import { actionsOf, statementsOf, synthStack } from '../support/cdk';

/** The status-change events' resources (docs/events.md); cdk-nag runs on this default stack in stack.test.ts. */
describe('status-change events in the stack', () => {
  const { template } = synthStack({ stage: 'pr-7' });
  const busArn = { 'Fn::GetAtt': [expect.stringMatching(/^StatusEventsBus[0-9A-F]{8}$/), 'Arn'] };

  it('has one event bus, named from the stage', () => {
    template.resourceCountIs('AWS::Events::EventBus', 1);
    template.hasResourceProperties('AWS::Events::EventBus', { Name: 'whatsapp-delivery-tracker-pr-7' });
  });

  it('lets the processor put events on that bus only (the parked ones), and no longer send to the retry queue', () => {
    const statements = statementsOf(template, 'ProcessorFunctionServiceRole');
    const put = statements.filter((s) => [s.Action].flat().includes('events:PutEvents'));
    expect(put).toHaveLength(1);
    expect([put[0]!.Action].flat()).toEqual(['events:PutEvents']);
    expect(put[0]!.Resource).toEqual(busArn);
    // Nothing else: the status queue's consume actions, the retry queue's, the secret, the alert topics, X-Ray.
    expect([...new Set(actionsOf(statements))]).toEqual([
      'events:PutEvents',
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
      'sns:Publish',
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:ReceiveMessage',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
    // No role but the processor's and the relay's may put events.
    const others = Object.entries(template.findResources('AWS::IAM::Policy'))
      .filter(([id]) => !id.startsWith('ProcessorFunctionServiceRole') && !id.startsWith('StatusEventRelayFunction'))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as { Action: string | string[] }[]);
    expect(actionsOf(others)).not.toContain('events:PutEvents');
  });

  it('gives the relay only events:PutEvents on the bus, the Supabase secret and X-Ray', () => {
    const statements = statementsOf(template, 'StatusEventRelayFunctionServiceRole');
    expect([...new Set(actionsOf(statements))]).toEqual([
      'events:PutEvents',
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
    const put = statements.filter((s) => [s.Action].flat().includes('events:PutEvents'));
    expect(put.map((s) => s.Resource)).toEqual([busArn]);
    const secret = statements.filter((s) => [s.Action].flat().includes('secretsmanager:GetSecretValue'));
    expect(secret.map((s) => s.Resource)).toEqual([expect.not.stringContaining('*')]);
  });

  it('runs the relay every minute, for at most 60 s, with the bus and the recipient policy', () => {
    const relayRef = expect.stringMatching(/^StatusEventRelayFunction[0-9A-F]{8}$/);
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [
        Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^StatusEventRelayFunction'), 'Arn'] } }),
      ],
    });
    const relays = template.findResources('AWS::Lambda::Function', {
      Properties: { Description: 'Puts the status-change outbox on the event bus' },
    });
    expect(Object.keys(relays)).toEqual([relayRef]);
    const relay = Object.values(relays)[0]!.Properties;
    expect(relay.Timeout).toBe(60);
    expect(relay.Environment.Variables).toMatchObject({
      STATUS_EVENT_BUS_NAME: { Ref: expect.stringMatching(/^StatusEventsBus/) },
      STATUS_EVENT_RECIPIENT: 'masked',
      SUPABASE_SECRET_ID: expect.anything(),
    });
  });

  it('encrypts the event retry queue and its DLQ, keeps both 14 days, dead-letters after 10 receives', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 1_209_600,
      RedrivePolicy: {
        deadLetterTargetArn: {
          'Fn::GetAtt': [Match.stringLikeRegexp('^StatusEventsRetryQueueDeadLetterQueue'), 'Arn'],
        },
        maxReceiveCount: 10,
      },
    });
  });

  it('feeds the retry queue back to the processor, with partial batch failures', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^StatusEventsRetryQueue[0-9A-F]{8}$'), 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 10,
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          STATUS_EVENT_BUS_NAME: { Ref: Match.stringLikeRegexp('^StatusEventsBus') },
          STATUS_EVENT_RETRY_QUEUE_ARN: Match.anyValue(),
        }),
      },
    });
  });

  it('alarms on refused, lost or dead-lettered events and on relay errors (warning)', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: Match.stringLikeRegexp('^\\[warning\\] Status-change events'),
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Metrics: Match.arrayWith([
        Match.objectLike({
          Expression: 'FILL(parked, 0) + FILL(lost, 0) + FILL(deadLettered, 0) + FILL(relayErrors, 0)',
        }),
        Match.objectLike({
          Id: 'parked',
          MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'StatusEventsParked' }) }),
        }),
        Match.objectLike({
          Id: 'lost',
          MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'StatusEventsLost' }) }),
        }),
        Match.objectLike({
          Id: 'relayErrors',
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({
              MetricName: 'Errors',
              Dimensions: [
                { Name: 'FunctionName', Value: { Ref: Match.stringLikeRegexp('^StatusEventRelayFunction') } },
              ],
            }),
          }),
        }),
      ]),
    });
  });

  it('passes the recipient policy; statusEvents false builds none of it', () => {
    const omitted = synthStack({ statusEventRecipient: 'omitted' }).template;
    omitted.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ STATUS_EVENT_RECIPIENT: 'omitted' }) },
    });
    const off = synthStack({ statusEvents: false }).template;
    off.resourceCountIs('AWS::Events::EventBus', 0);
    off.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    expect(JSON.stringify(off.toJSON())).not.toContain('StatusEventRelay');
    expect(JSON.stringify(off.toJSON())).not.toContain('STATUS_EVENT_BUS_NAME');
    expect(JSON.stringify(off.toJSON())).not.toContain('StatusEventsParked');
  });

  it('refuses a recipient policy it does not offer (hashed: docs/events.md says why)', () => {
    expect(() => synthStack({ statusEventRecipient: 'hashed' })).toThrow(/statusEventRecipient/);
  });
});
