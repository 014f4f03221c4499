import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { loadConfig, type TrackerConfig } from '../../lib/config';
import { StatusTrackingStack } from '../../lib/status-tracking-stack';

/**
 * The real stack from the given context keys. Bundling is skipped here (it is exercised by `cdk synth` in CI);
 * everything else is what a deployment synthesizes.
 */
export function synthStack(context: Record<string, unknown> = {}): {
  template: Template;
  stack: StatusTrackingStack;
  config: TrackerConfig;
} {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
  const config = loadConfig(context, {});
  const stack = new StatusTrackingStack(app, 'Tracker', {
    config,
    env: { account: '123456789012', region: 'eu-west-1' },
  });
  return { template: Template.fromStack(stack), stack, config };
}

export interface Statement {
  Action: string | string[];
  Resource: unknown;
  Effect: string;
}

/** All IAM statements attached to the role whose logical id starts with `rolePrefix`. */
export function statementsOf(template: Template, rolePrefix: string): Statement[] {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref.startsWith(rolePrefix)))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
}

/** Every action of the statements, sorted. */
export const actionsOf = (statements: { Action: string | string[] }[]) =>
  statements.flatMap((s) => [s.Action].flat()).sort();
