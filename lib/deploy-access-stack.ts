import { Arn, CfnOutput, Duration, Stack, type StackProps, Tags } from 'aws-cdk-lib';
import {
  type IOidcProvider,
  OidcProviderNative,
  OpenIdConnectPrincipal,
  PolicyStatement,
  Role,
} from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';

/** GitHub Actions' OpenID Connect issuer: the tokens a workflow job asks for with `permissions: id-token: write`. */
export const GITHUB_OIDC_ISSUER = 'token.actions.githubusercontent.com';

export interface DeployAccessStackProps extends StackProps {
  /** `owner/name` of the GitHub repository whose workflows may deploy. */
  readonly githubRepository: string;
  /** The stages it deploys; each gets a role only a job in the GitHub environment of that name can assume. */
  readonly stages: readonly string[];
  /** The account's existing GitHub OIDC provider (an account holds one per issuer); unset, this stack creates it. */
  readonly oidcProviderArn?: string;
  /** The CDK bootstrap qualifier of the target account. @default hnb659fds */
  readonly bootstrapQualifier?: string;
}

/**
 * The short-lived credentials GitHub Actions deploys with: no access keys anywhere. Each role may do one thing,
 * assume the CDK bootstrap roles (which `cdk bootstrap` created with the rights a deployment needs), and only a job of
 * this repository may assume it: the diff role from a pull request (read-only lookups, for `cdk diff`), a stage's
 * deploy role from a job running in the GitHub environment of that name (where reviewers can be required).
 */
export class DeployAccessStack extends Stack {
  public readonly diffRole: Role;
  public readonly deployRoles: Record<string, Role>;

  constructor(scope: Construct, id: string, props: DeployAccessStackProps) {
    super(scope, id, props);
    const qualifier = props.bootstrapQualifier ?? 'hnb659fds';
    const provider: IOidcProvider = props.oidcProviderArn
      ? OidcProviderNative.fromOidcProviderArn(this, 'GitHubOidc', props.oidcProviderArn)
      : new OidcProviderNative(this, 'GitHubOidc', {
          url: `https://${GITHUB_OIDC_ISSUER}`,
          clientIds: ['sts.amazonaws.com'],
        });

    /** A role that a token whose `sub` is exactly `subject` (and whose audience is STS) can assume. */
    const roleFor = (roleId: string, subject: string, description: string) =>
      new Role(this, roleId, {
        description,
        maxSessionDuration: Duration.hours(1),
        assumedBy: new OpenIdConnectPrincipal(provider, {
          StringEquals: {
            [`${GITHUB_OIDC_ISSUER}:aud`]: 'sts.amazonaws.com',
            [`${GITHUB_OIDC_ISSUER}:sub`]: subject,
          },
        }),
      });
    /** sts:AssumeRole on the named CDK bootstrap roles of this account and region only. */
    const bootstrapRoles = (kinds: readonly string[]) =>
      new PolicyStatement({
        actions: ['sts:AssumeRole'],
        resources: kinds.map((kind) =>
          Arn.format(
            {
              service: 'iam',
              region: '',
              resource: 'role',
              resourceName: `cdk-${qualifier}-${kind}-role-${this.account}-${this.region}`,
            },
            this,
          ),
        ),
      });

    const repo = props.githubRepository;
    this.diffRole = roleFor('PullRequestDiff', `repo:${repo}:pull_request`, `cdk diff from pull requests of ${repo}`);
    this.diffRole.addToPolicy(bootstrapRoles(['lookup']));
    new CfnOutput(this, 'DiffRoleArn', {
      value: this.diffRole.roleArn,
      description: 'GitHub variable AWS_DIFF_ROLE_ARN',
    });

    this.deployRoles = {};
    for (const stage of props.stages) {
      const role = roleFor(
        `Deploy-${stage}`,
        `repo:${repo}:environment:${stage}`,
        `cdk deploy of stage ${stage} from ${repo}`,
      );
      role.addToPolicy(bootstrapRoles(['deploy', 'file-publishing', 'image-publishing', 'lookup']));
      this.deployRoles[stage] = role;
      new CfnOutput(this, `DeployRoleArn-${stage}`, {
        value: role.roleArn,
        description: `GitHub environment ${stage}: variable AWS_DEPLOY_ROLE_ARN`,
      });
    }
    Tags.of(this).add('project', 'whatsapp-delivery-tracker');
  }
}
