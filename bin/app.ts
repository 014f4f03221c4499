#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadConfig } from '../lib/config';
import { StatusTrackingStack } from '../lib/status-tracking-stack';

const app = new App();
const config = loadConfig((key) => app.node.tryGetContext(key));
new StatusTrackingStack(app, config.stackName, {
  config,
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
// The AWS Solutions rules run on every synth; deliberate exceptions are acknowledged in the stack with reasons.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
