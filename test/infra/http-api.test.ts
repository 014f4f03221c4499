import { App, Validations } from 'aws-cdk-lib';
import { Capture, Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadConfig } from '../../lib/config';
import { StatusTrackingStack } from '../../lib/status-tracking-stack';
import { synthStack } from '../support/cdk';

/**
 * Issue 17, item 2: `-c apiType=http` serves the webhook on an HTTP API with the REST API's routes, throttling, access
 * log fields and custom domain; the allow-list, which needs the REST API's resource policy, is refused.
 */
const CERTIFICATE = 'arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666';

describe('apiType http', () => {
  const { template, stack } = synthStack({ apiType: 'http', stage: 'prod' });

  it('makes an HTTP API and no REST API', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      Name: 'Tracker-webhooks',
      ProtocolType: 'HTTP',
    });
    template.resourceCountIs('AWS::ApiGateway::RestApi', 0);
    template.resourceCountIs('AWS::ApiGateway::Account', 0); // no account-wide CloudWatch role either
  });

  it('routes POST /webhook, GET /webhook and POST /webhook/{token} to the ingest in payload format 2.0', () => {
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map(
      (r) => r.Properties.RouteKey as string,
    );
    expect(routes.sort()).toEqual(['GET /webhook', 'POST /webhook', 'POST /webhook/{token}']);
    const integrations = Object.values(template.findResources('AWS::ApiGatewayV2::Integration'));
    expect(integrations).toHaveLength(1);
    expect(integrations[0]?.Properties).toMatchObject({
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
      IntegrationUri: { 'Fn::GetAtt': [expect.stringMatching(/^IngestFunction/), 'Arn'] },
    });
  });

  it('throttles the stage and writes JSON access logs with the REST fields, the route key for the resource path', () => {
    const format = new Capture();
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: 'prod',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 1000, ThrottlingBurstLimit: 2000 },
      AccessLogSettings: {
        DestinationArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^WebhookApiAccessLogs'), 'Arn'] },
        Format: format,
      },
    });
    const fields = JSON.parse(format.asString()) as Record<string, string>;
    expect(fields).toEqual({
      requestId: '$context.requestId',
      sourceIp: '$context.identity.sourceIp',
      requestTime: '$context.requestTime',
      httpMethod: '$context.httpMethod',
      routeKey: '$context.routeKey',
      status: '$context.status',
      responseLength: '$context.responseLength',
      integrationLatency: '$context.integrationLatency',
      userAgent: '$context.identity.userAgent',
    });
    expect(format.asString()).not.toMatch(/\$context\.path\b/); // the token would be in it
    // Retained with the stage's data, like the REST API's access logs.
    template.hasResource('AWS::Logs::LogGroup', {
      Properties: { RetentionInDays: 30 },
      DeletionPolicy: 'Retain',
    });
  });

  it('uses the configured throttling', () => {
    const custom = synthStack({ apiType: 'http', apiRateLimit: 50, apiBurstLimit: 100 }).template;
    custom.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
    });
  });

  it('gives the stage URL and keeps the alarms and outputs on the HTTP API', () => {
    const url = JSON.stringify(template.findOutputs('WebhookUrl'));
    expect(url).toContain('execute-api');
    expect(url).toContain('/prod/webhook');
    template.hasOutput('ApiAccessLogGroupName', { Value: { Ref: Match.stringLikeRegexp('^WebhookApiAccessLogs') } });
    // The API alarms read the HTTP API's metrics: its id, and its 5xx metric name.
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: Match.arrayWith([
        Match.objectLike({
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({
              MetricName: '5xx',
              Dimensions: [{ Name: 'ApiId', Value: { Ref: Match.stringLikeRegexp('^WebhookApi') } }],
            }),
          }),
        }),
      ]),
    });
    expect(stack.webhookApi.webhookUrl).toMatch(/\/prod\/webhook$/);
  });

  it('maps a custom domain at its root with an ApiMapping, with its alias record or CNAME target', () => {
    const { template: withDomain } = synthStack({
      apiType: 'http',
      domainName: 'hooks.example.com',
      certificateArn: CERTIFICATE,
    });
    withDomain.hasResourceProperties('AWS::ApiGatewayV2::DomainName', {
      DomainName: 'hooks.example.com',
      DomainNameConfigurations: [
        Match.objectLike({ CertificateArn: CERTIFICATE, EndpointType: 'REGIONAL', SecurityPolicy: 'TLS_1_2' }),
      ],
    });
    const mapping = Object.values(withDomain.findResources('AWS::ApiGatewayV2::ApiMapping'))[0];
    expect(mapping?.Properties).toMatchObject({ ApiId: { Ref: expect.stringMatching(/^WebhookApi/) }, Stage: 'dev' });
    // Created after the stage it names, or CloudFormation fails on a stage that does not exist yet.
    expect(mapping?.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^WebhookApiStage/)]));
    expect(mapping?.Properties.ApiMappingKey).toBeUndefined(); // the root: https://hooks.example.com/webhook
    withDomain.hasOutput('WebhookUrl', { Value: 'https://hooks.example.com/webhook' });
    withDomain.hasOutput('DomainTarget', { Value: { 'Fn::GetAtt': [Match.anyValue(), 'RegionalDomainName'] } });

    const { template: withZone } = synthStack({
      apiType: 'http',
      domainName: 'hooks.example.com',
      certificateArn: CERTIFICATE,
      hostedZoneId: 'Z0123456789ABC',
      hostedZoneName: 'example.com',
    });
    withZone.hasResourceProperties('AWS::Route53::RecordSet', {
      Name: 'hooks.example.com.',
      Type: 'A',
      AliasTarget: {
        DNSName: { 'Fn::GetAtt': [Match.anyValue(), 'RegionalDomainName'] },
        HostedZoneId: { 'Fn::GetAtt': [Match.anyValue(), 'RegionalHostedZoneId'] },
      },
    });
    expect(Object.keys(withZone.findOutputs('DomainTarget'))).toEqual([]);
  });

  it('refuses the source allow-list, saying why and what to do', () => {
    expect(() => loadConfig({ apiType: 'http', allowedSourceCidrs: '203.0.113.0/24' }, {})).toThrow(
      /allowedSourceCidrs.*HTTP API \(apiType http\) has no resource policy.*use apiType rest/,
    );
    expect(() => loadConfig({ apiType: 'graphql' }, {})).toThrow(/apiType/);
    expect(loadConfig({}, {}).apiType).toBe('rest');
  });

  it('passes cdk-nag with no unacknowledged finding', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
    new StatusTrackingStack(app, 'Tracker', { config: loadConfig({ apiType: 'http' }, {}) });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).not.toThrow();
  });
});
