import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ConfigError, LOG_RETENTION_DAYS, loadConfig } from '../../lib/config';
import { StatusTrackingStack } from '../../lib/status-tracking-stack';

/**
 * Issue 17, item 1: stages that share nothing in one account, tags on every taggable resource, removal policies per
 * stage, and a config that refuses what it does not know instead of ignoring it.
 */
function synthStage(context: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) {
  const config = loadConfig(context, env);
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
  const stack = new StatusTrackingStack(app, config.stackName, {
    config,
    env: { account: config.account ?? '123456789012', region: config.region ?? 'eu-west-1' },
  });
  return { config, stack, template: Template.fromStack(stack).toJSON() as { Resources: Record<string, Resource> } };
}
interface Resource {
  Type: string;
  Properties?: Record<string, unknown>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
}

/**
 * Every name a template gives literally (the rest CloudFormation generates from the stack's name): resources' names
 * and display names, the API's stage, the functions' service dimension (their metrics and logs), the secrets' paths.
 */
const NAME_KEYS =
  /^(Name|RestApiName|StageName|FunctionName|QueueName|TopicName|DisplayName|AlarmName|DashboardName|LogGroupName|RoleName|POWERTOOLS_SERVICE_NAME)$/;
function namesIn(template: { Resources: Record<string, Resource> }): Set<string> {
  const names = new Set<string>();
  const visit = (value: unknown, key: string) => {
    if (typeof value === 'string' && NAME_KEYS.test(key)) names.add(value);
    else if (Array.isArray(value)) for (const item of value) visit(item, key);
    else if (value && typeof value === 'object') {
      // A metric dimension's Name is the dimension's kind (service, FunctionName), not a resource's name.
      if ('Key' in value) return; // a tag
      if ('Value' in value) return visit((value as { Value: unknown }).Value, 'Name');
      for (const [k, v] of Object.entries(value)) visit(v, k);
    }
  };
  for (const resource of Object.values(template.Resources)) visit(resource.Properties, '');
  // Secret ids appear inside ARNs built with Fn::Join: the literal pieces that hold the path.
  const json = JSON.stringify(template);
  for (const match of json.matchAll(/:secret:(whatsapp-delivery-tracker\/[a-z0-9-]+\/[a-z]+)/g)) names.add(match[1]!);
  return names;
}

const tagsOf = (resource: Resource): Record<string, string> => {
  const tags = resource.Properties?.Tags;
  if (Array.isArray(tags)) return Object.fromEntries(tags.map((t: { Key: string; Value: string }) => [t.Key, t.Value]));
  return (tags as Record<string, string> | undefined) ?? {};
};

describe('stages', () => {
  const stages = {
    stages: {
      dev: { account: '111111111111', region: 'eu-west-1' },
      prod: {
        account: '222222222222',
        region: 'ap-south-1',
        processorMaxConcurrency: 20,
        criticalAlarmEmails: ['oncall@example.com'],
      },
    },
  };

  it('gives dev and prod stacks in one account no name in common', () => {
    const dev = synthStage({ ...stages, stage: 'dev' });
    const prod = synthStage({ ...stages, stage: 'prod' });
    expect(dev.config.stackName).toBe('WhatsAppDeliveryTracker-dev');
    expect(prod.config.stackName).toBe('WhatsAppDeliveryTracker-prod');
    const devNames = namesIn(dev.template);
    const prodNames = namesIn(prod.template);
    // What is compared: the API's name, the functions' service dimension (metrics, logs), the secrets' paths...
    for (const name of [
      'WhatsAppDeliveryTracker-dev-webhooks',
      'WhatsAppDeliveryTracker-dev',
      'dev',
      'WhatsApp delivery (dev): critical',
      'whatsapp-delivery-tracker/dev/supabase',
      'whatsapp-delivery-tracker/dev/webhook',
    ]) {
      expect(devNames).toContain(name);
    }
    expect([...devNames].filter((name) => prodNames.has(name))).toEqual([]);
  });

  it('applies the stage profile: account, region and settings', () => {
    const prod = synthStage({ ...stages, stage: 'prod', processorMaxConcurrency: 5 });
    expect(prod.config).toMatchObject({
      account: '222222222222',
      region: 'ap-south-1',
      processorMaxConcurrency: 20,
      criticalAlarmEmails: ['oncall@example.com'],
    });
    expect(prod.stack.account).toBe('222222222222');
    expect(prod.stack.region).toBe('ap-south-1');
    // The status queue's mapping (the event retry queue has its own, with a fixed concurrency).
    const mapping = Object.values(prod.template.Resources).find(
      (r) =>
        r.Type === 'AWS::Lambda::EventSourceMapping' &&
        JSON.stringify(r.Properties?.EventSourceArn).includes('"StatusQueue'),
    );
    expect(mapping?.Properties?.ScalingConfig).toEqual({ MaximumConcurrency: 20 });
  });

  it('takes the environment over the profile, the profile over top-level context', () => {
    const context = { ...stages, stage: 'prod', processorMaxConcurrency: 7, processorBatchSize: 50 };
    expect(loadConfig(context, {})).toMatchObject({ processorMaxConcurrency: 20, processorBatchSize: 50 });
    expect(loadConfig(context, { PROCESSOR_MAX_CONCURRENCY: '9' })).toMatchObject({ processorMaxConcurrency: 9 });
    expect(loadConfig(context, { STAGE: 'dev' })).toMatchObject({
      stage: 'dev',
      processorMaxConcurrency: 7,
      account: '111111111111',
    });
  });

  it('accepts any stage name without a profile, and derives every name from it', () => {
    const preview = synthStage({ stage: 'pr-123' });
    expect(preview.config).toMatchObject({
      stackName: 'WhatsAppDeliveryTracker-pr-123',
      supabaseSecret: 'whatsapp-delivery-tracker/pr-123/supabase',
      retainData: false,
    });
    expect(() => loadConfig({ stage: 'Prod_1' }, {})).toThrow(/stage.*lower-case letters/);
  });

  it('tags every taggable resource with project and stage, and with the configured tags', () => {
    const { template } = synthStage({ stage: 'prod', tags: { team: 'payments', costCenter: '42' } });
    const taggable = Object.values(template.Resources).filter((r) => r.Properties && 'Tags' in r.Properties);
    // The resource types that take tags in CloudFormation, each of which this stack creates.
    const types = new Set(taggable.map((r) => r.Type));
    for (const type of [
      'AWS::Lambda::Function',
      'AWS::SQS::Queue',
      'AWS::SNS::Topic',
      'AWS::Logs::LogGroup',
      'AWS::ApiGateway::RestApi',
      'AWS::ApiGateway::Stage',
      'AWS::IAM::Role',
      'AWS::CloudWatch::Alarm',
    ]) {
      expect(types).toContain(type);
    }
    for (const resource of taggable)
      expect(tagsOf(resource)).toMatchObject({
        project: 'whatsapp-delivery-tracker',
        stage: 'prod',
        team: 'payments',
        costCenter: '42',
      });
    expect(loadConfig({ tags: 'team=payments, costCenter=42' }, {}).tags).toEqual({
      team: 'payments',
      costCenter: '42',
    });
    expect(() => loadConfig({ tags: { 'aws:owner': 'x' } }, {})).toThrow(/reserved by AWS/);
  });

  it('keeps the queues and log groups of prod when the stack goes, and lets dev go whole', () => {
    const kept = (template: { Resources: Record<string, Resource> }) =>
      Object.values(template.Resources)
        .filter((r) => r.Type === 'AWS::SQS::Queue' || r.Type === 'AWS::Logs::LogGroup')
        .map((r) => [r.DeletionPolicy, r.UpdateReplacePolicy]);
    const prod = kept(synthStage({ stage: 'prod' }).template);
    const dev = kept(synthStage({ stage: 'dev' }).template);
    expect(prod.length).toBeGreaterThanOrEqual(6); // 2 queues, 3 function log groups, the API's access logs
    expect(prod.every(([d, u]) => d === 'Retain' && u === 'Retain')).toBe(true);
    expect(dev.every(([d, u]) => d === 'Delete' && u === 'Delete')).toBe(true);
    expect(kept(synthStage({ stage: 'staging', retainData: true }).template).every(([d]) => d === 'Retain')).toBe(true);
  });
});

describe('config refuses what it does not know', () => {
  const fails = (context: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) => {
    try {
      loadConfig(context, env);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as Error).message;
    }
    throw new Error('expected the config to be refused');
  };

  it('names the closest key for a misspelt context key, profile key, alarm or alarm setting', () => {
    expect(fails({ processorMaxConcurency: 3 })).toMatch(
      /context key "processorMaxConcurency" is not a setting \(did you mean "processorMaxConcurrency"\?\)/,
    );
    expect(fails({ stage: 'prod', stages: { prod: { logRetentionDay: 30 } } })).toMatch(
      /stages\.prod\.logRetentionDay is not a setting \(did you mean "logRetentionDays"\?\)/,
    );
    expect(fails({ alarms: { deliveryRat: { threshold: 70 } } })).toMatch(
      /"deliveryRat" is not a setting \(did you mean "deliveryRate"\?\)/,
    );
    expect(fails({ alarms: '{"deliveryRate":{"treshold":70}}' })).toMatch(
      /alarms\.deliveryRate .*"treshold" is not a setting \(did you mean "threshold"\?\)/,
    );
    expect(fails({ somethingElseEntirely: 1 })).toMatch(/"somethingElseEntirely" is not a setting$/);
  });

  it('leaves the CDK its own keys: feature flags, CLI keys, cached lookups', () => {
    expect(() =>
      loadConfig(
        {
          '@aws-cdk/core:checkSecretUsage': true,
          'aws:cdk:bundling-stacks': [],
          'availability-zones:account=1:region=eu-west-1': ['a'],
          'acknowledged-issue-numbers': [1],
        },
        {},
      ),
    ).not.toThrow();
  });

  it('accepts only the log retentions CloudWatch accepts', () => {
    expect(fails({ logRetentionDays: 45 })).toMatch(
      /logRetentionDays .*CloudWatch Logs accepts only 1, 3, 5, 7, 14, 30/,
    );
    for (const days of LOG_RETENTION_DAYS)
      expect(loadConfig({ logRetentionDays: days }, {}).logRetentionDays).toBe(days);
    expect(LOG_RETENTION_DAYS).toEqual(expect.arrayContaining([1, 30, 365, 3653]));
    expect(LOG_RETENTION_DAYS).not.toContain(45);
  });

  it('refuses a stages entry that is not a map of settings, and a malformed account', () => {
    expect(fails({ stages: ['prod'] })).toMatch(/"stages" must map stage names to settings/);
    expect(fails({ stage: 'prod', stages: { prod: { account: '1234' } } })).toMatch(
      /account \(stages\.prod\.account\): must be a 12-digit AWS account id/,
    );
  });
});
