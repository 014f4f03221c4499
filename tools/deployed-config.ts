import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig, type TrackerConfig } from '../lib/config';

const CDK_JSON = path.resolve(__dirname, '..', 'cdk.json');

/**
 * The configuration `cdk deploy` would use, for tools that must agree with the deployed stack: cdk.json's context,
 * then the environment, through the same loadConfig. (Command-line `-c` overrides of a deploy are not seen here:
 * put lasting settings in cdk.json.)
 */
export function loadDeployedConfig(env: NodeJS.ProcessEnv = process.env, cdkJson = CDK_JSON): TrackerConfig {
  const context = (JSON.parse(readFileSync(cdkJson, 'utf8')) as { context?: Record<string, unknown> }).context ?? {};
  return loadConfig(context, env);
}
