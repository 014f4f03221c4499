import { readFileSync } from 'node:fs';
import path from 'node:path';
import { synthStack } from '../support/cdk';

/**
 * Issue 17, item 6: the outputs the walkthrough and the runbook use exist, and name what the functions really write
 * to. (The issue found a troubleshooting step naming log groups that do not exist under that name.)
 */
const DOCS = ['README.md', 'docs/deploy.md', 'docs/runbook.md', 'docs/operate.md'].map((file) => ({
  file,
  text: readFileSync(path.join(__dirname, '..', '..', file), 'utf8'),
}));

describe.each(['rest', 'http'])('stack outputs (apiType %s)', (apiType) => {
  const { template } = synthStack({ apiType });
  const json = template.toJSON() as {
    Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
    Outputs: Record<string, { Value: unknown }>;
  };
  const ref = (key: string) => (json.Outputs[key]?.Value as { Ref?: string } | undefined)?.Ref;

  it("names each function's own log group: the one its logging config writes to", () => {
    for (const [output, fn] of [
      ['IngestLogGroupName', 'IngestFunction'],
      ['ProcessorLogGroupName', 'ProcessorFunction'],
      ['SweeperLogGroupName', 'SweeperFunction'],
    ] as const) {
      const [, lambda] = Object.entries(json.Resources).find(
        ([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith(fn),
      )!;
      const logGroup = (lambda.Properties!.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
      expect(ref(output)).toBe(logGroup);
      expect(json.Resources[logGroup]?.Type).toBe('AWS::Logs::LogGroup');
      // No name given: CloudFormation generates <stack>-<logical id>-<random>, never /aws/lambda/<function>.
      expect(json.Resources[logGroup]?.Properties?.LogGroupName).toBeUndefined();
    }
    const accessLogs = ref('ApiAccessLogGroupName')!;
    expect(json.Resources[accessLogs]?.Type).toBe('AWS::Logs::LogGroup');
  });

  it("gives the dashboard's name and its console URL", () => {
    const dashboard = ref('DashboardName')!;
    expect(json.Resources[dashboard]?.Type).toBe('AWS::CloudWatch::Dashboard');
    expect(JSON.stringify(json.Outputs.DashboardUrl?.Value)).toBe(
      JSON.stringify({
        'Fn::Join': [
          '',
          [
            'https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards:name=',
            { Ref: dashboard },
          ],
        ],
      }),
    );
  });

  it('has every output the documentation names', () => {
    const named = new Set<string>();
    for (const { text } of DOCS) {
      for (const m of text.matchAll(/outputs? `([A-Z][A-Za-z]+)`/g)) named.add(m[1]!);
      for (const m of text.matchAll(/OutputKey=='([A-Za-z]+)'/g)) named.add(m[1]!);
      for (const m of text.matchAll(/\boutput ([A-Z][A-Za-z]+)\b/g)) named.add(m[1]!);
      for (const m of text.matchAll(/`(\w+(?:LogGroupName|FunctionName|TopicArn|QueueUrl|QueueArn|Url))`/g))
        named.add(m[1]!);
    }
    named.delete('DomainTarget'); // only with a custom domain outside Route 53 (test/infra/custom-domain.test.ts)
    named.delete('DeployRoleArn'); // the deploy-access app's (test/infra/deploy-access.test.ts)
    named.delete('DiffRoleArn');
    named.delete('BootstrapVersion'); // the CDK toolkit stack's, which deploy:check reads
    expect(named.size).toBeGreaterThan(5);
    expect([...named].filter((key) => !(key in json.Outputs))).toEqual([]);
  });
});

describe('the documentation', () => {
  it('never names a log group the stack does not make (/aws/lambda/...), except to say there is none', () => {
    for (const { file, text } of DOCS) {
      const names = text.match(/\/aws\/lambda\/(?!<function name>` group)\S*/g);
      expect({ file, names }).toEqual({ file, names: null });
    }
  });
});
