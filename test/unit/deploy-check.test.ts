import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetAccountSettingsCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { loadConfig } from '../../lib/config';
import {
  awsClients,
  blocksDeploy,
  type Check,
  expectedConcurrency,
  formatChecks,
  requiredBootstrapVersion,
  runDeployChecks,
  STS_REGION_WITHOUT_ONE,
} from '../../tools/deploy-check';
import { synthStack } from '../support/cdk';

/**
 * Issue 17, item 5: `npm run deploy:check`. The four AWS clients are stubbed at the SDK's send layer
 * (aws-sdk-client-mock), so every request is the one the real client would make; each check is driven through its
 * ok and failing paths.
 */
const ACCOUNT = '123456789012';
const SUPABASE_KEY = 'eyJhbGciOiJIUzI1NiJ9.service-role-secret-value';
const TOKEN = 'shared-token-secret-value-0123456789';
const APP_SECRET = 'meta-app-secret-value-abcdef';
const SECRET_VALUES = [SUPABASE_KEY, TOKEN, APP_SECRET, 'https://abcd.supabase.co'];

const sts = mockClient(STSClient);
const cloudFormation = mockClient(CloudFormationClient);
const secretsManager = mockClient(SecretsManagerClient);
const lambda = mockClient(LambdaClient);
const clients = {
  sts: new STSClient({ region: 'eu-west-1' }),
  cloudFormation: new CloudFormationClient({ region: 'eu-west-1' }),
  secretsManager: new SecretsManagerClient({ region: 'eu-west-1' }),
  lambda: new LambdaClient({ region: 'eu-west-1' }),
};

const notFound = (name: string, message = 'not found') => Object.assign(new Error(message), { name });

function healthyAccount(webhook: Record<string, string> = { WEBHOOK_SHARED_TOKEN: TOKEN }) {
  sts.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT, Arn: `arn:aws:iam::${ACCOUNT}:user/alice` });
  cloudFormation.on(DescribeStacksCommand, { StackName: 'CDKToolkit' }).resolves({
    Stacks: [
      {
        StackName: 'CDKToolkit',
        StackStatus: 'UPDATE_COMPLETE',
        CreationTime: new Date(),
        Outputs: [{ OutputKey: 'BootstrapVersion', OutputValue: '29' }],
      },
    ],
  });
  secretsManager
    .on(GetSecretValueCommand, { SecretId: 'whatsapp-delivery-tracker/prod/supabase' })
    .resolves({
      SecretString: JSON.stringify({
        SUPABASE_URL: 'https://abcd.supabase.co',
        SUPABASE_SERVICE_ROLE_KEY: SUPABASE_KEY,
      }),
    })
    .on(GetSecretValueCommand, { SecretId: 'whatsapp-delivery-tracker/prod/webhook' })
    .resolves({ SecretString: JSON.stringify(webhook) });
  lambda
    .on(GetAccountSettingsCommand)
    .resolves({ AccountLimit: { ConcurrentExecutions: 1000, UnreservedConcurrentExecutions: 1000 } });
}

const prod = (context: Record<string, unknown> = {}) => loadConfig({ stage: 'prod', ...context }, {});
/** `region: null`: the shell has none. */
const run = (config = prod(), region: string | null = 'eu-west-1') =>
  runDeployChecks(clients, { config, region: region ?? undefined, requiredBootstrapVersion: 6 });
const byName = (checks: Check[], name: string) => checks.find((check) => check.name === name)!;

beforeEach(() => {
  for (const mock of [sts, cloudFormation, secretsManager, lambda]) mock.reset();
});

describe('deploy:check', () => {
  it('passes a ready account: every check ok, nothing blocks, and it says so', async () => {
    healthyAccount();
    const checks = await run();
    expect(checks.map((c) => [c.name, c.status])).toEqual([
      ['credentials', 'ok'],
      ['region', 'ok'],
      ['stage pin', 'ok'],
      ['bootstrap', 'ok'],
      ['supabase secret', 'ok'],
      ['webhook secret', 'ok'],
      ['lambda concurrency', 'ok'],
    ]);
    expect(blocksDeploy(checks)).toBe(false);
    expect(formatChecks(checks)).toMatch(/Ready to deploy\.\n$/);
    expect(byName(checks, 'bootstrap').detail).toBe('CDKToolkit version 29 (the template requires 6)');
    expect(byName(checks, 'webhook secret').detail).toBe(
      'whatsapp-delivery-tracker/prod/webhook: WEBHOOK_SHARED_TOKEN',
    );
  });

  it('no credentials: missing with the login command, and the AWS checks skipped rather than failed', async () => {
    sts.on(GetCallerIdentityCommand).rejects(notFound('CredentialsProviderError', 'Could not load credentials'));
    const checks = await run();
    expect(byName(checks, 'credentials')).toMatchObject({
      status: 'missing',
      fix: expect.stringContaining('aws sso login'),
    });
    expect(checks.filter((c) => c.status === 'skipped').map((c) => c.name)).toEqual([
      'bootstrap',
      'supabase secret',
      'webhook secret',
      'lambda concurrency',
    ]);
    expect(blocksDeploy(checks)).toBe(true);
    expect(secretsManager.calls()).toHaveLength(0);
  });

  it('asks STS who the credentials are even without a region, so that only the region check says one is missing', async () => {
    expect(await (awsClients(undefined).sts as STSClient).config.region()).toBe(STS_REGION_WITHOUT_ONE);
    expect(await (awsClients('ap-south-1').sts as STSClient).config.region()).toBe('ap-south-1');
  });

  it('no region: missing with the export that sets one, unless the stage pins one', async () => {
    healthyAccount();
    const checks = await run(prod(), null);
    expect(byName(checks, 'region')).toMatchObject({
      status: 'missing',
      fix: 'export AWS_REGION=<region, e.g. eu-west-1>',
    });
    const pinned = await run(prod({ stages: { prod: { region: 'ap-south-1' } } }), null);
    expect(byName(pinned, 'region')).toMatchObject({ status: 'ok', detail: 'ap-south-1' });
  });

  it("stage pin: another account's credentials block, naming both; a pinned region elsewhere is only reported", async () => {
    healthyAccount();
    const otherAccount = await run(prod({ stages: { prod: { account: '222222222222' } } }));
    expect(byName(otherAccount, 'stage pin')).toMatchObject({
      status: 'missing',
      detail: `stage prod pins account 222222222222; the credentials are for ${ACCOUNT}`,
      fix: 'export AWS_PROFILE=<a profile for account 222222222222>',
    });
    const matching = await run(prod({ stages: { prod: { account: ACCOUNT, region: 'ap-south-1' } } }));
    expect(byName(matching, 'stage pin')).toMatchObject({
      status: 'ok',
      detail: `stage prod pins account ${ACCOUNT} and region ap-south-1 (not eu-west-1, the shell's region)`,
    });
  });

  it('bootstrap: absent, too old, or failed, each missing with the bootstrap command for the account and region', async () => {
    healthyAccount();
    const fix = `npx cdk bootstrap aws://${ACCOUNT}/eu-west-1`;
    cloudFormation
      .on(DescribeStacksCommand)
      .rejects(notFound('ValidationError', 'Stack with id CDKToolkit does not exist'));
    expect(byName(await run(), 'bootstrap')).toMatchObject({
      status: 'missing',
      detail: 'no CDKToolkit stack in eu-west-1: the account is not bootstrapped',
      fix,
    });
    cloudFormation.on(DescribeStacksCommand).resolves({
      Stacks: [
        {
          StackName: 'CDKToolkit',
          StackStatus: 'CREATE_COMPLETE',
          CreationTime: new Date(),
          Outputs: [{ OutputKey: 'BootstrapVersion', OutputValue: '5' }],
        },
      ],
    });
    expect(byName(await run(), 'bootstrap')).toMatchObject({
      status: 'missing',
      detail: 'CDKToolkit is version 5; the template requires 6 or later',
      fix,
    });
    cloudFormation.on(DescribeStacksCommand).resolves({
      Stacks: [{ StackName: 'CDKToolkit', StackStatus: 'UPDATE_ROLLBACK_COMPLETE', CreationTime: new Date() }],
    });
    expect(byName(await run(), 'bootstrap')).toMatchObject({
      status: 'missing',
      detail: 'CDKToolkit is UPDATE_ROLLBACK_COMPLETE',
    });
  });

  it("reads the minimum bootstrap version from the synthesized template's rule", () => {
    const { template } = synthStack();
    expect(requiredBootstrapVersion(template.toJSON())).toBe(6);
    expect(requiredBootstrapVersion({})).toBe(0);
  });

  it('supabase secret: absent (create command), unreadable, or lacking a key (named, with the merge command)', async () => {
    healthyAccount();
    const id = 'whatsapp-delivery-tracker/prod/supabase';
    secretsManager.on(GetSecretValueCommand, { SecretId: id }).rejects(notFound('ResourceNotFoundException'));
    expect(byName(await run(), 'supabase secret')).toMatchObject({
      status: 'missing',
      detail: `no secret ${id}`,
      fix: expect.stringContaining(
        `aws secretsmanager create-secret --name ${id} --secret-string file:///tmp/supabase.json`,
      ),
    });
    secretsManager.on(GetSecretValueCommand, { SecretId: id }).rejects(notFound('AccessDeniedException'));
    expect(byName(await run(), 'supabase secret')).toMatchObject({
      status: 'missing',
      detail: `cannot read ${id} with these credentials (AccessDeniedException)`,
    });
    secretsManager
      .on(GetSecretValueCommand, { SecretId: id })
      .resolves({ SecretString: JSON.stringify({ SUPABASE_URL: 'https://abcd.supabase.co' }) });
    const lacking = byName(await run(), 'supabase secret');
    expect(lacking).toMatchObject({ status: 'missing', fix: expect.stringContaining(`--secret-id ${id}`) });
    expect(lacking.detail).toMatch(/^whatsapp-delivery-tracker\/prod\/supabase: SUPABASE_SERVICE_ROLE_KEY: /);
    secretsManager.on(GetSecretValueCommand, { SecretId: id }).resolves({ SecretString: 'not json' });
    expect(byName(await run(), 'supabase secret')).toMatchObject({ status: 'missing', detail: `${id} is not JSON` });
  });

  it('webhook secret: the keys the auth needs', async () => {
    healthyAccount({});
    expect(byName(await run(), 'webhook secret')).toMatchObject({
      status: 'missing',
      detail: expect.stringContaining('holds none of META_APP_SECRET, AISENSY_WEBHOOK_SECRET, WEBHOOK_SHARED_TOKEN'),
    });
    // Without authentication required, an empty secret is what was asked for.
    expect(byName(await run(prod({ requireWebhookAuth: false })), 'webhook secret').status).toBe('ok');
    healthyAccount({ META_APP_SECRET: APP_SECRET });
    expect(byName(await run(), 'webhook secret')).toMatchObject({
      status: 'missing',
      detail: expect.stringContaining('no WEBHOOK_VERIFY_TOKEN'),
      fix: expect.stringContaining('WEBHOOK_VERIFY_TOKEN'),
    });
    healthyAccount({ META_APP_SECRET: APP_SECRET, WEBHOOK_VERIFY_TOKEN: TOKEN });
    expect(byName(await run(), 'webhook secret')).toMatchObject({
      status: 'ok',
      detail: 'whatsapp-delivery-tracker/prod/webhook: META_APP_SECRET, WEBHOOK_VERIFY_TOKEN',
    });
    healthyAccount({ WEBHOOK_SHARED_TOKEN: '   ' });
    expect(byName(await run(), 'webhook secret')).toMatchObject({
      status: 'missing',
      detail: expect.stringContaining('WEBHOOK_SHARED_TOKEN: is blank'),
    });
  });

  it('reads the secrets the config names (-c supabaseSecret / webhookSecret)', async () => {
    healthyAccount();
    secretsManager.on(GetSecretValueCommand).rejects(notFound('ResourceNotFoundException'));
    const checks = await run(prod({ supabaseSecret: 'team/supabase', webhookSecret: 'team/hooks' }));
    expect(secretsManager.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input.SecretId)).toEqual([
      'team/supabase',
      'team/hooks',
    ]);
    expect(byName(checks, 'webhook secret').detail).toBe('no secret team/hooks');
  });

  it('lambda concurrency: enough unreserved for processor + ingest + sweeper, else the quota request', async () => {
    healthyAccount();
    expect(expectedConcurrency(prod())).toEqual({ processor: 5, ingest: 50, sweeper: 1, total: 56 });
    expect(byName(await run(), 'lambda concurrency').detail).toContain(
      'processor 5 (processorMaxConcurrency) + ingest ~50 (1000/s × 50 ms) + sweeper 1 = 56',
    );
    // A new account's quota of 10.
    lambda
      .on(GetAccountSettingsCommand)
      .resolves({ AccountLimit: { ConcurrentExecutions: 10, UnreservedConcurrentExecutions: 10 } });
    expect(byName(await run(), 'lambda concurrency')).toMatchObject({
      status: 'missing',
      fix: 'aws service-quotas request-service-quota-increase --service-code lambda --quota-code L-B99A9384 --desired-value 1000',
    });
    // Enough in total, but reserved by other functions.
    lambda
      .on(GetAccountSettingsCommand)
      .resolves({ AccountLimit: { ConcurrentExecutions: 1000, UnreservedConcurrentExecutions: 100 } });
    expect(
      (await run(prod({ processorMaxConcurrency: 60 }))).find((c) => c.name === 'lambda concurrency')?.status,
    ).toBe('missing');
  });

  it('never prints a secret value, whatever the secrets hold', async () => {
    const outputs: string[] = [];
    healthyAccount({ META_APP_SECRET: APP_SECRET, WEBHOOK_SHARED_TOKEN: TOKEN, WEBHOOK_VERIFY_TOKEN: TOKEN });
    outputs.push(formatChecks(await run()));
    healthyAccount({ META_APP_SECRET: APP_SECRET, WEBHOOK_SHARED_TOKEN: 42 as unknown as string });
    secretsManager
      .on(GetSecretValueCommand, { SecretId: 'whatsapp-delivery-tracker/prod/supabase' })
      .resolves({ SecretString: JSON.stringify({ SUPABASE_URL: SUPABASE_KEY, SUPABASE_SERVICE_ROLE_KEY: '' }) });
    const broken = await run();
    outputs.push(formatChecks(broken), JSON.stringify(broken));
    expect(blocksDeploy(broken)).toBe(true);
    for (const output of outputs) for (const value of SECRET_VALUES) expect(output).not.toContain(value);
  });
});
