import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetAccountSettingsCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type * as z from 'zod';
import { hasAnyCredential } from '../lambdas/domain/webhook-auth';
import { SupabaseSecret, secretProblems, toWebhookCredentials, WebhookSecret } from '../lambdas/shared/secrets';
import type { TrackerConfig } from '../lib/config';

/**
 * The deploy preflight (`npm run deploy:check -- --stage prod`): what a deploy of the stage needs from the account,
 * read with the caller's credentials, each check `ok` or `missing` with the command that fixes it. Nothing here
 * prints or returns a secret's value: secret checks report key names only.
 */

export type CheckStatus = 'ok' | 'missing' | 'skipped';

export interface Check {
  name: string;
  status: CheckStatus;
  /** What was found (never a secret value). */
  detail: string;
  /** The command (or commands) that fixes a missing check. */
  fix?: string;
}

export interface DeployCheckClients {
  sts: Pick<STSClient, 'send'>;
  cloudFormation: Pick<CloudFormationClient, 'send'>;
  secretsManager: Pick<SecretsManagerClient, 'send'>;
  lambda: Pick<LambdaClient, 'send'>;
}

export interface DeployCheckInput {
  config: TrackerConfig;
  /**
   * The region the shell's credentials point at (AWS_REGION, else the profile's), if any. A stage that pins a
   * region deploys there whatever this says (bin/app.ts gives the stack its env), so the checks read that region.
   */
  region: string | undefined;
  /** The bootstrap version the synthesized template requires (its CheckBootstrapVersion rule). */
  requiredBootstrapVersion: number;
  /** The CDK toolkit stack's name. @default 'CDKToolkit' */
  toolkitStackName?: string;
}

/**
 * The ingest's concurrency at the API's steady throttle: Little's law, `apiRateLimit` × the time one webhook holds
 * an ingest instance. 50 ms is assumed: the cost model's ~15 ms billed per warm webhook (bench/cost.ts: the handler's
 * measured CPU scaled to 256 MB, plus a 10 ms SQS round trip) tripled for cold starts and SQS's tail. At the default
 * 1,000 requests/s: 50 instances.
 */
export const INGEST_SECONDS_PER_WEBHOOK = 0.05;

/** Concurrent executions the stack may use at once: processor cap + ingest at the API's throttle + the sweeper. */
export function expectedConcurrency(config: Pick<TrackerConfig, 'processorMaxConcurrency' | 'apiRateLimit'>): {
  processor: number;
  ingest: number;
  sweeper: number;
  total: number;
} {
  const ingest = Math.ceil(config.apiRateLimit * INGEST_SECONDS_PER_WEBHOOK);
  const processor = config.processorMaxConcurrency;
  return { processor, ingest, sweeper: 1, total: processor + ingest + 1 };
}

/**
 * The lowest bootstrap version a template accepts: CDK's `CheckBootstrapVersion` rule lists the versions it refuses
 * (`Fn::Not: [Fn::Contains: [["1", ..., "5"], Ref BootstrapVersion]]`), so the minimum is one more than the highest.
 */
export function requiredBootstrapVersion(template: { Rules?: Record<string, unknown> }): number {
  const rule = template.Rules?.CheckBootstrapVersion as
    | { Assertions?: { Assert?: { 'Fn::Not'?: [{ 'Fn::Contains'?: [string[], unknown] }] } }[] }
    | undefined;
  const refused = rule?.Assertions?.[0]?.Assert?.['Fn::Not']?.[0]?.['Fn::Contains']?.[0];
  if (!refused?.length) return 0;
  return Math.max(...refused.map(Number)) + 1;
}

/** Runs every check in order; the AWS ones are skipped when there are no credentials or no region. */
export async function runDeployChecks(clients: DeployCheckClients, input: DeployCheckInput): Promise<Check[]> {
  const { config } = input;
  const region = deployRegion(config, input.region);
  const checks: Check[] = [];

  const identity = await checkCredentials(clients);
  checks.push(identity.check);
  checks.push(checkRegion(region));
  checks.push(checkPin(config, identity.account, input.region));

  const reachable = identity.account !== undefined && region !== undefined;
  const skipped = (name: string): Check => ({
    name,
    status: 'skipped',
    detail: 'needs credentials and a region (above)',
  });
  if (!reachable) {
    for (const name of ['bootstrap', 'supabase secret', 'webhook secret', 'lambda concurrency'])
      checks.push(skipped(name));
    return checks;
  }
  checks.push(await checkBootstrap(clients, input, identity.account!, region!));
  checks.push(await checkSupabaseSecret(clients, config));
  checks.push(await checkWebhookSecret(clients, config));
  checks.push(await checkConcurrency(clients, config));
  return checks;
}

/** Where `cdk deploy` puts the stack: the stage's pinned region, else the credentials' region. */
export const deployRegion = (config: Pick<TrackerConfig, 'region'>, shellRegion: string | undefined) =>
  config.region ?? shellRegion;

/** Whether a deploy should not go ahead: any check missing. */
export const blocksDeploy = (checks: readonly Check[]) => checks.some((check) => check.status === 'missing');

async function checkCredentials(clients: DeployCheckClients): Promise<{ check: Check; account?: string }> {
  try {
    const { Account, Arn } = await clients.sts.send(new GetCallerIdentityCommand({}));
    return { check: { name: 'credentials', status: 'ok', detail: `${Arn} (account ${Account})` }, account: Account };
  } catch (error) {
    return {
      check: {
        name: 'credentials',
        status: 'missing',
        // The credential chain's own message ("Could not load credentials from any providers"): it holds no secret.
        detail: `STS GetCallerIdentity failed: ${errorName(error)}: ${String((error as Error).message).slice(0, 200)}`,
        fix: 'aws sso login --profile <profile> && export AWS_PROFILE=<profile>   # or: aws configure',
      },
    };
  }
}

function checkRegion(region: string | undefined): Check {
  if (region) return { name: 'region', status: 'ok', detail: region };
  return {
    name: 'region',
    status: 'missing',
    detail: 'no region: neither AWS_REGION nor the profile sets one',
    fix: 'export AWS_REGION=<region, e.g. eu-west-1>',
  };
}

/**
 * The stage profile's account must be the credentials' (the CDK CLI refuses to deploy a stack pinned to another
 * account). A pinned region needs nothing: the stack deploys there, whatever the shell's region.
 */
function checkPin(config: TrackerConfig, account: string | undefined, shellRegion: string | undefined): Check {
  const name = 'stage pin';
  const where = `stage ${config.stage}`;
  if (!config.account && !config.region) {
    return { name, status: 'ok', detail: `${where} pins no account or region: it deploys where the credentials point` };
  }
  if (config.account && account && config.account !== account) {
    return {
      name,
      status: 'missing',
      detail: `${where} pins account ${config.account}; the credentials are for ${account}`,
      fix: `export AWS_PROFILE=<a profile for account ${config.account}>`,
    };
  }
  const pinned = [config.account && `account ${config.account}`, config.region && `region ${config.region}`];
  const elsewhere =
    config.region && shellRegion && shellRegion !== config.region ? ` (not ${shellRegion}, the shell's region)` : '';
  return { name, status: 'ok', detail: `${where} pins ${pinned.filter(Boolean).join(' and ')}${elsewhere}` };
}

async function checkBootstrap(
  clients: DeployCheckClients,
  input: DeployCheckInput,
  account: string,
  region: string,
): Promise<Check> {
  const name = 'bootstrap';
  const stackName = input.toolkitStackName ?? 'CDKToolkit';
  const fix = `npx cdk bootstrap aws://${account}/${region}`;
  const required = input.requiredBootstrapVersion;
  try {
    const { Stacks } = await clients.cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
    const stack = Stacks?.[0];
    const version = Number(stack?.Outputs?.find((o) => o.OutputKey === 'BootstrapVersion')?.OutputValue);
    const status = stack?.StackStatus ?? 'unknown';
    if (!/_COMPLETE$/.test(status) || /ROLLBACK|DELETE/.test(status)) {
      return { name, status: 'missing', detail: `${stackName} is ${status}`, fix };
    }
    if (!Number.isFinite(version)) {
      return { name, status: 'missing', detail: `${stackName} has no BootstrapVersion output`, fix };
    }
    if (version < required) {
      return {
        name,
        status: 'missing',
        detail: `${stackName} is version ${version}; the template requires ${required} or later`,
        fix,
      };
    }
    return { name, status: 'ok', detail: `${stackName} version ${version} (the template requires ${required})` };
  } catch (error) {
    if (errorName(error) === 'ValidationError') {
      return {
        name,
        status: 'missing',
        detail: `no ${stackName} stack in ${region}: the account is not bootstrapped`,
        fix,
      };
    }
    return { name, status: 'missing', detail: `CloudFormation DescribeStacks failed: ${errorName(error)}`, fix };
  }
}

type SecretRead = { ok: true; value: unknown } | { ok: false; check: Check };

/** The secret parsed as JSON, or the check saying why not. The value never leaves this module's checks. */
async function readSecret(
  clients: DeployCheckClients,
  name: string,
  secretId: string,
  createWith: string,
): Promise<SecretRead> {
  const create = `aws secretsmanager create-secret --name ${secretId} --secret-string file://${createWith}   # docs/deploy.md step 3`;
  try {
    const { SecretString } = await clients.secretsManager.send(new GetSecretValueCommand({ SecretId: secretId }));
    if (SecretString === undefined) {
      return {
        ok: false,
        check: { name, status: 'missing', detail: `${secretId} holds binary data, not JSON`, fix: create },
      };
    }
    try {
      return { ok: true, value: JSON.parse(SecretString) as unknown };
    } catch {
      return {
        ok: false,
        check: { name, status: 'missing', detail: `${secretId} is not JSON`, fix: putWhole(secretId, createWith) },
      };
    }
  } catch (error) {
    const code = errorName(error);
    if (code === 'ResourceNotFoundException') {
      return { ok: false, check: { name, status: 'missing', detail: `no secret ${secretId}`, fix: create } };
    }
    const detail =
      code === 'AccessDeniedException'
        ? `cannot read ${secretId} with these credentials (AccessDeniedException)`
        : `cannot read ${secretId}: ${code}`;
    return {
      ok: false,
      check: {
        name,
        status: 'missing',
        detail,
        fix: `run with credentials allowed secretsmanager:GetSecretValue on ${secretId} (and kms:Decrypt on its key)`,
      },
    };
  }
}

const putWhole = (secretId: string, file: string) =>
  `aws secretsmanager put-secret-value --secret-id ${secretId} --secret-string file://${file}   # the whole JSON object, docs/deploy.md step 3`;

/** Adds keys to an existing secret without dropping the others (docs/deploy.md, "Adding a key to a secret that exists"). */
const mergeKeys = (secretId: string, keys: string[]) =>
  `aws secretsmanager get-secret-value --secret-id ${secretId} --query SecretString --output text > /tmp/secret.json` +
  ` && <add ${keys.join(', ')} to /tmp/secret.json>` +
  ` && aws secretsmanager put-secret-value --secret-id ${secretId} --secret-string file:///tmp/secret.json && rm /tmp/secret.json`;

function schemaCheck<T extends z.ZodType>(
  name: string,
  secretId: string,
  schema: T,
  value: unknown,
): { ok: true; data: z.infer<T> } | { ok: false; check: Check } {
  const parsed = schema.safeParse(value);
  if (parsed.success) return { ok: true, data: parsed.data };
  const keys = [...new Set(parsed.error.issues.map((issue) => String(issue.path[0] ?? '(root)')))];
  return {
    ok: false,
    check: {
      name,
      status: 'missing',
      // Key names and zod's messages ("expected string", "Invalid URL"): never the values.
      detail: `${secretId}: ${secretProblems(parsed.error)}`,
      fix: mergeKeys(secretId, keys),
    },
  };
}

async function checkSupabaseSecret(clients: DeployCheckClients, config: TrackerConfig): Promise<Check> {
  const name = 'supabase secret';
  const secretId = config.supabaseSecret;
  const read = await readSecret(clients, name, secretId, '/tmp/supabase.json');
  if (!read.ok) return read.check;
  const checked = schemaCheck(name, secretId, SupabaseSecret, read.value);
  if (!checked.ok) return checked.check;
  return { name, status: 'ok', detail: `${secretId}: SUPABASE_URL, SUPABASE_SERVICE_ROLE_KEY` };
}

async function checkWebhookSecret(clients: DeployCheckClients, config: TrackerConfig): Promise<Check> {
  const name = 'webhook secret';
  const secretId = config.webhookSecret;
  const read = await readSecret(clients, name, secretId, '/tmp/webhook.json');
  if (!read.ok) return read.check;
  const checked = schemaCheck(name, secretId, WebhookSecret, read.value);
  if (!checked.ok) return checked.check;
  const present = Object.keys(checked.data).filter((key) => checked.data[key as keyof WebhookSecret] !== undefined);
  if (!config.requireWebhookAuth) {
    return {
      name,
      status: 'ok',
      detail: `${secretId}: requireWebhookAuth is false, unauthenticated webhooks are accepted`,
    };
  }
  if (!hasAnyCredential(toWebhookCredentials(checked.data))) {
    return {
      name,
      status: 'missing',
      detail: `${secretId} holds none of META_APP_SECRET, AISENSY_WEBHOOK_SECRET, WEBHOOK_SHARED_TOKEN: every webhook would be refused with 503`,
      fix: mergeKeys(secretId, ['WEBHOOK_SHARED_TOKEN (openssl rand -hex 32) or the provider secret']),
    };
  }
  if (checked.data.META_APP_SECRET && !checked.data.WEBHOOK_VERIFY_TOKEN) {
    return {
      name,
      status: 'missing',
      detail: `${secretId} has META_APP_SECRET but no WEBHOOK_VERIFY_TOKEN: Meta's callback verification (GET /webhook) would fail`,
      fix: mergeKeys(secretId, ['WEBHOOK_VERIFY_TOKEN']),
    };
  }
  return { name, status: 'ok', detail: `${secretId}: ${present.join(', ')}` };
}

async function checkConcurrency(clients: DeployCheckClients, config: TrackerConfig): Promise<Check> {
  const name = 'lambda concurrency';
  const need = expectedConcurrency(config);
  const breakdown = `processor ${need.processor} (processorMaxConcurrency) + ingest ~${need.ingest} (${config.apiRateLimit}/s × ${INGEST_SECONDS_PER_WEBHOOK * 1000} ms) + sweeper 1 = ${need.total}`;
  try {
    const { AccountLimit } = await clients.lambda.send(new GetAccountSettingsCommand({}));
    const limit = AccountLimit?.ConcurrentExecutions ?? 0;
    const unreserved = AccountLimit?.UnreservedConcurrentExecutions ?? limit;
    if (unreserved < need.total) {
      return {
        name,
        status: 'missing',
        detail: `${unreserved} unreserved of ${limit} concurrent executions; the stack needs ${breakdown}`,
        fix: `aws service-quotas request-service-quota-increase --service-code lambda --quota-code L-B99A9384 --desired-value ${Math.max(1_000, need.total + (limit - unreserved))}`,
      };
    }
    return {
      name,
      status: 'ok',
      detail: `${unreserved} unreserved of ${limit} concurrent executions, shared with the account's other functions; the stack needs ${breakdown}`,
    };
  } catch (error) {
    return {
      name,
      status: 'missing',
      detail: `Lambda GetAccountSettings failed: ${errorName(error)}`,
      fix: 'run with credentials allowed lambda:GetAccountSettings',
    };
  }
}

/** The AWS error's code (`ResourceNotFoundException`), never its message, which may quote a request. */
function errorName(error: unknown): string {
  return (error as { name?: string }).name ?? 'unknown error';
}

/** The checks as the CLI prints them: one line each, its fix indented below. */
export function formatChecks(checks: readonly Check[]): string {
  const width = Math.max(...checks.map((check) => check.name.length));
  const lines: string[] = [];
  for (const check of checks) {
    lines.push(`${check.status.padEnd(8)} ${check.name.padEnd(width)}  ${check.detail}`);
    if (check.fix && check.status === 'missing') lines.push(`${' '.repeat(9 + width)}  fix: ${check.fix}`);
  }
  const missing = checks.filter((check) => check.status === 'missing').length;
  lines.push(
    missing === 0
      ? '\nReady to deploy.'
      : `\n${missing} check${missing === 1 ? '' : 's'} missing: fix before deploying.`,
  );
  return `${lines.join('\n')}\n`;
}

/** STS's region when the shell and the stage name none: any commercial region answers GetCallerIdentity. */
export const STS_REGION_WITHOUT_ONE = 'us-east-1';

export function awsClients(region: string | undefined): DeployCheckClients {
  const options = region ? { region } : {};
  return {
    // Who the credentials are is the same answer in every region: without one, STS would fail on "Region is
    // missing" and the credentials check would send a signed-in user to `aws sso login`, when only the region
    // check's `export AWS_REGION` is needed.
    sts: new STSClient({ region: region ?? STS_REGION_WITHOUT_ONE }),
    cloudFormation: new CloudFormationClient(options),
    secretsManager: new SecretsManagerClient(options),
    lambda: new LambdaClient(options),
  };
}
