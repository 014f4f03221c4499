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

  it('lets the processor put events on that bus only, and send only to the event retry queue', () => {
    const statements = statementsOf(template, 'ProcessorFunctionServiceRole');
    const put = statements.filter((s) => [s.Action].flat().includes('events:PutEvents'));
    expect(put).toHaveLength(1);
    expect([put[0]!.Action].flat()).toEqual(['events:PutEvents']);
    expect(put[0]!.Resource).toEqual(busArn);
    const send = statements.filter((s) => [s.Action].flat().includes('sqs:SendMessage'));
    expect(send).toHaveLength(1);
    expect(send[0]!.Resource).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^StatusEventsRetryQueue[0-9A-F]{8}$/), 'Arn'],
    });
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
      'sqs:SendMessage',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
    // No other role may put events.
    const others = Object.entries(template.findResources('AWS::IAM::Policy'))
      .filter(([id]) => !id.startsWith('ProcessorFunctionServiceRole'))
      .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as { Action: string | string[] }[]);
    expect(actionsOf(others)).not.toContain('events:PutEvents');
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
          STATUS_EVENT_RETRY_QUEUE_URL: { Ref: Match.stringLikeRegexp('^StatusEventsRetryQueue[0-9A-F]{8}$') },
          STATUS_EVENT_RETRY_QUEUE_ARN: Match.anyValue(),
          STATUS_EVENT_RECIPIENT: 'masked',
        }),
      },
    });
  });

  it('alarms on refused, lost or dead-lettered events (warning)', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: Match.stringLikeRegexp('^\\[warning\\] Status-change events'),
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'FILL(parked, 0) + FILL(lost, 0) + FILL(deadLettered, 0)' }),
        Match.objectLike({
          Id: 'parked',
          MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'StatusEventsParked' }) }),
        }),
        Match.objectLike({
          Id: 'lost',
          MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'StatusEventsLost' }) }),
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
    expect(JSON.stringify(off.toJSON())).not.toContain('STATUS_EVENT_BUS_NAME');
    expect(JSON.stringify(off.toJSON())).not.toContain('StatusEventsParked');
  });

  it('refuses a recipient policy it does not offer (hashed: docs/events.md says why)', () => {
    expect(() => synthStack({ statusEventRecipient: 'hashed' })).toThrow(/statusEventRecipient/);
  });
});
