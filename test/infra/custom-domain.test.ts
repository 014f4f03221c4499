import { Match } from 'aws-cdk-lib/assertions';
import { loadConfig } from '../../lib/config';
import { synthStack } from '../support/cdk';

/**
 * Issue 17, item 3: a domain of the user's for the webhook, so the URL given to AiSensy or Meta survives a
 * replacement of the API.
 */
const CERTIFICATE = 'arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-1111-2222-3333-444455556666';

describe('custom domain', () => {
  it('maps the domain at its root to the stage, with TLS 1.2 and the given certificate, and gives its URL', () => {
    const { template, stack } = synthStack({ domainName: 'hooks.example.com', certificateArn: CERTIFICATE });
    template.hasResourceProperties('AWS::ApiGateway::DomainName', {
      DomainName: 'hooks.example.com',
      RegionalCertificateArn: CERTIFICATE,
      EndpointConfiguration: { Types: ['REGIONAL'] },
      SecurityPolicy: 'TLS_1_2',
    });
    template.hasResourceProperties('AWS::ApiGateway::BasePathMapping', {
      DomainName: Match.anyValue(),
      RestApiId: { Ref: Match.stringLikeRegexp('WebhookApi') },
      Stage: Match.anyValue(),
    });
    const mapping = Object.values(template.findResources('AWS::ApiGateway::BasePathMapping'))[0];
    expect(mapping?.Properties.BasePath).toBeUndefined(); // the root: https://hooks.example.com/webhook
    template.hasOutput('WebhookUrl', { Value: 'https://hooks.example.com/webhook' });
    // No zone here: the user's DNS needs the CNAME target, and no record is made.
    template.hasOutput('DomainTarget', { Value: { 'Fn::GetAtt': [Match.anyValue(), 'RegionalDomainName'] } });
    template.resourceCountIs('AWS::Route53::RecordSet', 0);
    expect(stack.webhookApi.webhookUrl).toBe('https://hooks.example.com/webhook');
  });

  it('creates the alias record in the given hosted zone', () => {
    const { template } = synthStack({
      domainName: 'hooks.example.com',
      certificateArn: CERTIFICATE,
      hostedZoneId: 'Z0123456789ABC',
      hostedZoneName: 'example.com',
    });
    template.hasResourceProperties('AWS::Route53::RecordSet', {
      Name: 'hooks.example.com.',
      Type: 'A',
      HostedZoneId: 'Z0123456789ABC',
      AliasTarget: {
        DNSName: { 'Fn::GetAtt': [Match.anyValue(), 'RegionalDomainName'] },
        HostedZoneId: Match.anyValue(),
      },
    });
    expect(Object.keys(template.findOutputs('DomainTarget'))).toEqual([]);
  });

  it('keeps the execute-api URL without a domain', () => {
    const { template } = synthStack();
    template.resourceCountIs('AWS::ApiGateway::DomainName', 0);
    const url = JSON.stringify(template.findOutputs('WebhookUrl'));
    expect(url).toContain('execute-api');
  });

  it('refuses keys that cannot work together, naming them', () => {
    const refuse = (context: Record<string, unknown>) => expect(() => loadConfig(context, {}));
    refuse({ domainName: 'hooks.example.com' }).toThrow(/certificateArn.*needs an ACM certificate/);
    refuse({ certificateArn: CERTIFICATE }).toThrow(/domainName.*without the domainName/);
    refuse({ domainName: 'hooks.example.com', certificateArn: CERTIFICATE, region: 'us-east-1' }).toThrow(
      /certificate is in eu-west-1; a regional API in us-east-1 needs one from us-east-1/,
    );
    refuse({ domainName: 'hooks.example.com', certificateArn: CERTIFICATE, hostedZoneId: 'Z0123456789ABC' }).toThrow(
      /hostedZoneName.*go together/,
    );
    refuse({
      domainName: 'hooks.example.com',
      certificateArn: CERTIFICATE,
      hostedZoneId: 'Z0123456789ABC',
      hostedZoneName: 'other.org',
    }).toThrow(/hooks.example.com is not in the zone other.org/);
    refuse({ domainName: 'Hooks.Example.com', certificateArn: CERTIFICATE }).toThrow(/lower-case DNS name/);
    expect(
      loadConfig({ domainName: 'hooks.example.com', certificateArn: CERTIFICATE, region: 'eu-west-1' }, {}).domainName,
    ).toBe('hooks.example.com');
  });
});
