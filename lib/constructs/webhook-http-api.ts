import { Stack } from 'aws-cdk-lib';
import { AccessLogField, AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  DomainName,
  HttpApi,
  HttpMethod,
  type HttpStage,
  LogGroupLogDestination,
  PayloadFormatVersion,
  SecurityPolicy,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { ARecord, RecordTarget } from 'aws-cdk-lib/aws-route53';
import { ApiGatewayv2DomainProperties } from 'aws-cdk-lib/aws-route53-targets';
import { Construct } from 'constructs';
import type { WebhookApiProps, WebhookEndpoint } from './webhook-api';

/**
 * The webhook on an API Gateway HTTP API (`apiType: http`): the same routes as the REST API (`POST /webhook`,
 * `POST /webhook/{token}`, `GET /webhook`), the same throttling, JSON access logs with the same fields (the route
 * key `POST /webhook/{token}` where REST logs the resource path: HTTP APIs have no `$context.resourcePath`), and
 * the same custom domain, at $1.00 per million requests instead of $3.50. What it cannot do: a resource policy
 * (so no source allow-list: the config refuses `allowedSourceCidrs` with it) and AWS WAF.
 */
export class WebhookHttpApi extends Construct implements WebhookEndpoint {
  public readonly api: HttpApi;
  public readonly stage: HttpStage;
  public readonly accessLogGroup: LogGroup;
  public readonly webhookUrl: string;
  public readonly domainTarget?: string;

  constructor(scope: Construct, id: string, props: WebhookApiProps) {
    super(scope, id);
    if ((props.allowedSourceCidrs ?? []).length > 0) {
      // The config refuses this combination with its own message; a construct used directly must not drop it silently.
      throw new Error('an HTTP API has no resource policy: allowedSourceCidrs needs the REST API');
    }
    this.accessLogGroup = new LogGroup(this, 'AccessLogs', { retention: props.logRetention });
    this.api = new HttpApi(this, 'Api', {
      // API Gateway's metrics of an HTTP API are keyed by its id; the name still says whose it is.
      apiName: `${Stack.of(this).stackName}-webhooks`,
      description: 'WhatsApp delivery status webhooks',
      createDefaultStage: false,
    });
    const integration = new HttpLambdaIntegration('Ingest', props.handler, {
      payloadFormatVersion: PayloadFormatVersion.VERSION_2_0,
    });
    this.api.addRoutes({ path: '/webhook', methods: [HttpMethod.POST, HttpMethod.GET], integration });
    this.api.addRoutes({ path: '/webhook/{token}', methods: [HttpMethod.POST], integration });

    const custom = props.customDomain;
    const domain = custom
      ? new DomainName(this, 'Domain', {
          domainName: custom.domainName,
          certificate: custom.certificate,
          securityPolicy: SecurityPolicy.TLS_1_2,
        })
      : undefined;
    this.stage = this.api.addStage('Stage', {
      stageName: props.stageName,
      autoDeploy: true,
      throttle: { rateLimit: props.rateLimit ?? 1_000, burstLimit: props.burstLimit ?? 2_000 },
      // Mapped at the root: https://<domainName>/webhook, as with the REST API.
      domainMapping: domain ? { domainName: domain } : undefined,
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogGroup),
        // The route key is the template (POST /webhook/{token}), never the token itself; no $context.path.
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: AccessLogField.contextRequestId(),
            sourceIp: AccessLogField.contextIdentitySourceIp(),
            requestTime: AccessLogField.contextRequestTime(),
            httpMethod: AccessLogField.contextHttpMethod(),
            routeKey: '$context.routeKey',
            status: AccessLogField.contextStatus(),
            responseLength: AccessLogField.contextResponseLength(),
            integrationLatency: AccessLogField.contextIntegrationLatency(),
            userAgent: AccessLogField.contextIdentityUserAgent(),
          }),
        ),
      },
    });
    if (domain && custom?.hostedZone) {
      new ARecord(this, 'DomainRecord', {
        zone: custom.hostedZone,
        recordName: custom.domainName,
        target: RecordTarget.fromAlias(
          new ApiGatewayv2DomainProperties(domain.regionalDomainName, domain.regionalHostedZoneId),
        ),
      });
    }
    this.domainTarget = domain?.regionalDomainName;
    this.webhookUrl = custom ? `https://${custom.domainName}/webhook` : `${this.stage.url}/webhook`;
  }
}
