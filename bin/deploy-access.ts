#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { loadDeployAccessConfig } from '../lib/config';
import { DeployAccessStack } from '../lib/deploy-access-stack';

/**
 * The roles GitHub Actions deploys with, deployed once per account by a person with admin rights:
 *   npx cdk deploy -a "npx tsx bin/deploy-access.ts" -c githubRepository=<owner>/<name>
 * (docs/deploy.md, "Deploy from GitHub Actions").
 */
const app = new App();
const access = loadDeployAccessConfig(app.node.getAllContext());
new DeployAccessStack(app, 'WhatsAppDeliveryTracker-deploy-access', {
  githubRepository: access.githubRepository,
  stages: access.stages,
  oidcProviderArn: access.githubOidcProviderArn,
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
