import { STSClient } from '@aws-sdk/client-sts';
import { App } from 'aws-cdk-lib';
import { parseCli, UsageError } from '../lambdas/shared/cli';
import { ConfigError, envName, StageName } from '../lib/config';
import { StatusTrackingStack } from '../lib/status-tracking-stack';
import {
  awsClients,
  blocksDeploy,
  deployRegion,
  formatChecks,
  requiredBootstrapVersion,
  runDeployChecks,
} from './deploy-check';
import { loadDeployedConfig } from './deployed-config';

/**
 * `npm run deploy:check -- --stage prod`: the deploy preflight (checks and their fixes: tools/deploy-check.ts).
 * Exit 0 when nothing blocks a deploy, 1 when a check is missing, 2 on a usage error.
 */
const args = parseCli(
  {
    name: 'deploy:check',
    usage: 'npm run deploy:check -- [--stage NAME] [--json]',
    options: { stage: { type: 'string' }, json: { type: 'boolean', default: false } },
  },
  process.argv.slice(2),
  ({ values }) => {
    if (values.stage !== undefined && !StageName.safeParse(values.stage).success) {
      throw new UsageError(`--stage ${values.stage}: ${StageName.safeParse(values.stage).error?.issues[0]?.message}`);
    }
    return values;
  },
);

async function main(): Promise<number> {
  // The settings `cdk deploy -c stage=<stage>` would use: cdk.json's context and the stage's profile.
  const env = args.stage ? { ...process.env, [envName('stage')]: args.stage } : process.env;
  const config = loadDeployedConfig(env);
  const template = synthesizedTemplate(config);
  // The region the SDK resolves from the shell (AWS_REGION, else the profile), as the CDK CLI would.
  const shellRegion = await new STSClient({}).config.region().catch(() => undefined);
  const clients = awsClients(deployRegion(config, shellRegion));
  const checks = await runDeployChecks(clients, {
    config,
    region: shellRegion,
    requiredBootstrapVersion: requiredBootstrapVersion(template),
  });
  if (args.json) process.stdout.write(`${JSON.stringify({ stage: config.stage, stack: config.stackName, checks })}\n`);
  else {
    process.stdout.write(`deploy:check for stage ${config.stage} (stack ${config.stackName})\n\n`);
    process.stdout.write(formatChecks(checks));
  }
  return blocksDeploy(checks) ? 1 : 0;
}

/** The stack's template as `cdk synth` makes it, without bundling the functions (not needed for what is read). */
function synthesizedTemplate(config: ReturnType<typeof loadDeployedConfig>): { Rules?: Record<string, unknown> } {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
  const stack = new StatusTrackingStack(app, config.stackName, {
    config,
    env: { account: config.account, region: config.region },
  });
  return app.synth().getStackByName(stack.stackName).template as { Rules?: Record<string, unknown> };
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof ConfigError) process.stderr.write(`deploy:check: ${error.message}\n`);
    else process.stderr.write(`deploy:check failed: ${(error as Error).stack ?? error}\n`);
    process.exit(1);
  },
);
