import { App, Validations } from 'aws-cdk-lib';
import { Capture, Match } from 'aws-cdk-lib/assertions';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadConfig } from '../../lib/config';
import { StatusTrackingStack } from '../../lib/status-tracking-stack';
import { actionsOf, statementsOf, synthStack } from '../support/cdk';

const synth = synthStack;

describe('StatusTrackingStack', () => {
  const { template } = synth();

  describe('API', () => {
    it('serves POST and GET /webhook and POST /webhook/{token} through a Lambda proxy', () => {
      template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: 'webhook' });
      template.hasResourceProperties('AWS::ApiGateway::Resource', { PathPart: '{token}' });
      for (const method of ['POST', 'GET']) {
        template.hasResourceProperties('AWS::ApiGateway::Method', {
          HttpMethod: method,
          Integration: Match.objectLike({ Type: 'AWS_PROXY' }),
        });
      }
      expect(Object.values(template.findResources('AWS::ApiGateway::Method'))).toHaveLength(3);
    });

    it('throttles the stage, keeps execution logs off and writes access logs that hold the resource template, not the path', () => {
      const format = new Capture();
      template.hasResourceProperties('AWS::ApiGateway::Stage', {
        StageName: 'dev',
        MethodSettings: Match.arrayWith([
          Match.objectLike({
            ThrottlingRateLimit: 1000,
            ThrottlingBurstLimit: 2000,
            DataTraceEnabled: false,
            LoggingLevel: 'OFF',
          }),
        ]),
        AccessLogSetting: { DestinationArn: Match.anyValue(), Format: format },
      });
      expect(format.asString()).toContain('$context.resourcePath');
      expect(format.asString()).not.toMatch(/\$context\.path\b/);
    });

    it('has no resource policy unless source CIDRs are configured', () => {
      template.hasResourceProperties('AWS::ApiGateway::RestApi', { Policy: Match.absent() });
      const restricted = synth({ allowedSourceCidrs: '203.0.113.0/24, 198.51.100.7/32' }).template;
      restricted.hasResourceProperties('AWS::ApiGateway::RestApi', {
        Policy: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 'execute-api:Invoke',
              Condition: { NotIpAddress: { 'aws:SourceIp': ['203.0.113.0/24', '198.51.100.7/32'] } },
            }),
          ]),
        },
      });
    });
  });

  describe('ingest function', () => {
    it('runs on the newest Node runtime, ARM64, small and short', () => {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        MemorySize: 256,
        Timeout: 4, // under the provider's 5 s: lambdas/domain/ingest-budget.ts
        Environment: {
          Variables: Match.objectLike({
            QUEUE_URL: Match.anyValue(),
            WEBHOOK_SECRET_ID: Match.anyValue(),
            REQUIRE_WEBHOOK_AUTH: 'true',
            MAX_BODY_BYTES: '1048576',
            NODE_OPTIONS: '--enable-source-maps',
          }),
        },
      });
    });

    it('may only send messages to its queue, put records to the archive and read the webhook secret', () => {
      const statements = statementsOf(template, 'IngestFunctionServiceRole');
      expect(actionsOf(statements)).toEqual([
        'firehose:PutRecord',
        'firehose:PutRecordBatch',
        'secretsmanager:DescribeSecret',
        'secretsmanager:GetSecretValue',
        'sqs:SendMessage',
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
      ]);
      const sqs = statements.find((s) => s.Action === 'sqs:SendMessage');
      expect(sqs?.Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^StatusQueue/), 'Arn'] });
      const secret = statements.find((s) => [s.Action].flat().includes('secretsmanager:GetSecretValue'));
      expect(JSON.stringify(secret?.Resource)).toContain(':secret:whatsapp-delivery-tracker/dev/webhook-??????');
    });
  });

  describe('queue', () => {
    it('encrypts both queues, dead-letters after 11 receives (6 h of outage backoff), keeps dead letters 14 days', () => {
      template.hasResourceProperties('AWS::SQS::Queue', {
        SqsManagedSseEnabled: true,
        VisibilityTimeout: 180,
        RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: 11 },
      });
      template.hasResourceProperties('AWS::SQS::Queue', {
        SqsManagedSseEnabled: true,
        MessageRetentionPeriod: 1_209_600,
      });
    });

    it('sets the visibility timeout to at least 6 x the processor timeout', () => {
      const processorTimeout = new Capture();
      template.hasResourceProperties('AWS::Lambda::Function', {
        Timeout: processorTimeout,
        Environment: { Variables: Match.objectLike({ SUPABASE_SECRET_ID: Match.anyValue() }) },
      });
      const queue = Object.values(template.findResources('AWS::SQS::Queue')).find((q) => q.Properties.RedrivePolicy);
      expect(queue?.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * processorTimeout.asNumber());
    });

    it('denies every request that is not over TLS, on every queue (status queue, event retry queue, their DLQs)', () => {
      const policies = Object.values(template.findResources('AWS::SQS::QueuePolicy'));
      expect(policies).toHaveLength(4);
      for (const policy of policies) {
        expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
          expect.objectContaining({
            Effect: 'Deny',
            Action: 'sqs:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        );
      }
    });
  });

  describe('processor function', () => {
    it('consumes the queue with partial batch failures, batching and bounded concurrency', () => {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        BatchSize: 100,
        MaximumBatchingWindowInSeconds: 1,
        ScalingConfig: { MaximumConcurrency: 5 },
      });
    });

    it('may read only the Supabase secret, consume its queue and notify the alert topics (no wildcard action)', () => {
      // The events' own actions (PutEvents, the retry queue) are asserted in test/infra/status-events.test.ts.
      const statements = statementsOf(synth({ statusEvents: false }).template, 'ProcessorFunctionServiceRole');
      expect(actionsOf(statements)).toEqual([
        'secretsmanager:DescribeSecret',
        'secretsmanager:GetSecretValue',
        'sns:Publish', // the critical topic
        'sns:Publish', // the warning topic
        'sqs:ChangeMessageVisibility',
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:ReceiveMessage',
        'xray:PutTelemetryRecords',
        'xray:PutTraceSegments',
      ]);
      expect(statements.filter((s) => s.Resource === '*').flatMap((s) => [s.Action].flat())).toEqual([
        'xray:PutTraceSegments',
        'xray:PutTelemetryRecords',
      ]);
      const secret = statements.find((s) => [s.Action].flat().includes('secretsmanager:GetSecretValue'));
      expect(JSON.stringify(secret?.Resource)).toContain(':secret:whatsapp-delivery-tracker/dev/supabase-??????');
      expect(JSON.stringify(secret?.Resource)).not.toContain('webhook');
      // Account and template events go to the critical and warning topics, never the daily summary's.
      const publish = statements.filter((s) => [s.Action].flat().includes('sns:Publish'));
      expect(publish.map((s) => JSON.stringify(s.Resource)).sort()).toEqual([
        expect.stringMatching(/AlertTopicsCritical/),
        expect.stringMatching(/AlertTopicsWarning/),
      ]);
    });

    it('delays the next receive on its own queue only, with the backoff the config checked', () => {
      const statements = statementsOf(synth({ statusEvents: false }).template, 'ProcessorFunctionServiceRole');
      const visibility = statements.filter((s) => [s.Action].flat().includes('sqs:ChangeMessageVisibility'));
      expect(visibility.length).toBeGreaterThan(0);
      for (const statement of visibility)
        expect(statement.Resource).toEqual({
          'Fn::GetAtt': [expect.stringMatching(/^StatusQueue[0-9A-F]{8}$/), 'Arn'],
        });
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: {
          Variables: Match.objectLike({
            QUEUE_URL: { Ref: Match.stringLikeRegexp('^StatusQueue[0-9A-F]{8}$') },
            OUTAGE_BACKOFF_BASE_SECONDS: '180',
            OUTAGE_BACKOFF_MAX_SECONDS: '3600',
            SUPABASE_SECRET_ID: Match.anyValue(),
          }),
        },
      });
    });
  });

  it('never holds a secret value: only Secrets Manager ids reach the functions', () => {
    const functions = Object.values(template.findResources('AWS::Lambda::Function'));
    for (const fn of functions) {
      const names = Object.keys(fn.Properties.Environment?.Variables ?? {});
      expect(names.filter((n) => /(SECRET|KEY|TOKEN|PASSWORD)(?!_ID)/.test(n))).toEqual([]);
    }
    expect(JSON.stringify(template.toJSON())).not.toMatch(/SUPABASE_SERVICE_ROLE_KEY|service_role|eyJhbGci/);
    expect(Object.keys(template.findResources('AWS::SecretsManager::Secret'))).toEqual([]);
  });

  it('uses an existing secret by complete ARN exactly (test/infra/secrets.test.ts covers names and partial ARNs)', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/supabase-AbC123';
    const statements = statementsOf(synth({ supabaseSecret: arn }).template, 'ProcessorFunctionServiceRole');
    const reads = statements.filter((s) => [s.Action].flat().includes('secretsmanager:GetSecretValue'));
    expect(reads.map((s) => s.Resource)).toContain(arn);
  });

  it('outputs the webhook URL, queue and DLQ URLs and ARNs, function names and the log groups the runbook names', () => {
    const outputs = Object.keys(template.findOutputs('*'));
    expect(outputs).toEqual(
      expect.arrayContaining([
        'DeadLetterQueueArn',
        'DeadLetterQueueUrl',
        'IngestFunctionName',
        'ProcessorFunctionName',
        'QueueArn',
        'QueueUrl',
        'WebhookUrl',
      ]),
    );
    // Each log group output is the log group the function or the API stage really writes to.
    const ref = (output: string) => template.findOutputs(output)[output]?.Value.Ref as string;
    for (const [output, owner] of [
      ['IngestLogGroupName', 'IngestFunction'],
      ['ProcessorLogGroupName', 'ProcessorFunction'],
      ['SweeperLogGroupName', 'SweeperFunction'],
    ]) {
      const fn = Object.entries(template.findResources('AWS::Lambda::Function')).find(
        ([id]) => id.startsWith(owner!) && !id.includes('LogGroup'),
      )!;
      expect(fn[1].Properties.LoggingConfig.LogGroup).toEqual({ Ref: ref(output!) });
    }
    const stage = Object.values(template.findResources('AWS::ApiGateway::Stage'))[0]!;
    expect(stage.Properties.AccessLogSetting.DestinationArn['Fn::GetAtt'][0]).toBe(ref('ApiAccessLogGroupName'));
    const url = template.findOutputs('WebhookUrl').WebhookUrl?.Value['Fn::Join'][1] as unknown[];
    expect(url[0]).toBe('https://');
    expect(url.at(-1)).toBe('/webhook');
  });

  it('applies the configuration', () => {
    const custom = synth({
      maxReceiveCount: '10',
      processorTimeoutSeconds: 60,
      processorBatchSize: 50,
      processorBatchingWindowSeconds: 5,
      processorMaxConcurrency: 3,
      apiRateLimit: 200,
      apiBurstLimit: 400,
      requireWebhookAuth: 'false',
    }).template;
    custom.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 360,
      RedrivePolicy: Match.objectLike({ maxReceiveCount: 10 }),
    });
    custom.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 50,
      MaximumBatchingWindowInSeconds: 5,
      ScalingConfig: { MaximumConcurrency: 3 },
    });
    custom.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: Match.arrayWith([Match.objectLike({ ThrottlingRateLimit: 200, ThrottlingBurstLimit: 400 })]),
    });
    custom.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ REQUIRE_WEBHOOK_AUTH: 'false' }) },
    });
  });
});

describe('cdk-nag AwsSolutionsChecks', () => {
  function synthWithNag(addMistake = false) {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
    const stack = new StatusTrackingStack(app, 'Tracker', { config: loadConfig({}, {}) });
    if (addMistake) new Queue(stack, 'PlainQueue');
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    return () => app.synth();
  }

  it('finds no unacknowledged issue in the stack', () => {
    expect(synthWithNag()).not.toThrow();
  });

  it('is really checking: an unencrypted queue without DLQ fails the synth', () => {
    expect(synthWithNag(true)).toThrow(/AwsSolutions-SQS3[\s\S]*AwsSolutions-SQS4/);
  });
});

describe('loadConfig', () => {
  it('uses the defaults with nothing set', () => {
    expect(loadConfig({}, {})).toMatchObject({
      maxReceiveCount: 11,
      databaseOutageToleranceHours: 6,
      requireWebhookAuth: true,
      allowedSourceCidrs: [],
    });
  });

  it('derives maxReceiveCount from the outage tolerance and the visibility timeout when it is unset', () => {
    // 360 s doubling to 1 h: 360+720+1440+2880 = 5400 s, then 3600 s a wait: 4 + 11 waits, so 16 receives for 12 h.
    expect(loadConfig({ databaseOutageToleranceHours: 12, processorTimeoutSeconds: 60 }, {}).maxReceiveCount).toBe(16);
    expect(loadConfig({ databaseOutageToleranceHours: 0.25 }, {}).maxReceiveCount).toBe(4);
  });

  it('refuses a maxReceiveCount whose backoff does not outlast databaseOutageToleranceHours, naming both keys', () => {
    expect(() => loadConfig({ maxReceiveCount: 5 }, {})).toThrow(
      /maxReceiveCount \(context key "maxReceiveCount"\): 5 receives back off for 0\.75 h, less than databaseOutageToleranceHours \(6\).*maxReceiveCount >= 11/,
    );
    expect(() => loadConfig({}, { MAX_RECEIVE_COUNT: '10' })).toThrow(/environment variable MAX_RECEIVE_COUNT/);
    expect(loadConfig({ maxReceiveCount: 5, databaseOutageToleranceHours: 0.75 }, {}).maxReceiveCount).toBe(5);
  });

  it('lets the environment override the context', () => {
    const config = loadConfig({ maxReceiveCount: 11 }, { MAX_RECEIVE_COUNT: '12' });
    expect(config.maxReceiveCount).toBe(12);
  });

  it.each([
    [{ apiRateLimit: 'lots' }, /apiRateLimit \(context key "apiRateLimit"\)/],
    [{ allowedSourceCidrs: '10.0.0.1' }, /allowedSourceCidrs\.0 .*CIDR/],
    [{ dlqRetentionDays: 30 }, /dlqRetentionDays/],
    [{ processorBatchSize: 100, processorBatchingWindowSeconds: 0 }, /processorBatchingWindowSeconds.*batching window/],
    [{ requireWebhookAuth: 'maybe' }, /requireWebhookAuth/],
  ])('refuses %p with an error naming the key', (context, message) => {
    expect(() => loadConfig(context as Record<string, unknown>, {})).toThrow(message);
  });

  it('names the environment variable when the bad value came from there', () => {
    expect(() => loadConfig({}, { PROCESSOR_MAX_CONCURRENCY: '1' })).toThrow(
      /processorMaxConcurrency \(environment variable PROCESSOR_MAX_CONCURRENCY\)/,
    );
  });
});
