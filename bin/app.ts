#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError, loadConfig, type TrackerConfig } from '../lib/config';
import { StatusTrackingStack } from '../lib/status-tracking-stack';

const app = new App();
// All of the context (cdk.json, cdk.context.json, -c): a key the stack does not know is an error, not ignored.
let config: TrackerConfig;
try {
  config = loadConfig(app.node.getAllContext());
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  // The problems, each naming its key, without a stack trace that would bury them.
  console.error(error.message);
  process.exit(1);
}
new StatusTrackingStack(app, config.stackName, {
  config,
  // A stage profile that pins account and region deploys there only; the CLI refuses other credentials.
  env: {
    account: config.account ?? process.env.CDK_DEFAULT_ACCOUNT,
    region: config.region ?? process.env.CDK_DEFAULT_REGION,
  },
});
// The AWS Solutions rules run on every synth; deliberate exceptions are acknowledged in the stack with reasons.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
