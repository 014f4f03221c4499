import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import {
  AccessLogField,
  AccessLogFormat,
  type DomainName,
  EndpointType,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  RestApi,
  SecurityPolicy,
} from 'aws-cdk-lib/aws-apigateway';
import type { ICertificate } from 'aws-cdk-lib/aws-certificatemanager';
import type { Metric, MetricOptions } from 'aws-cdk-lib/aws-cloudwatch';
import { AnyPrincipal, Effect, PolicyDocument, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { ARecord, type IHostedZone, RecordTarget } from 'aws-cdk-lib/aws-route53';
import { ApiGatewayDomain } from 'aws-cdk-lib/aws-route53-targets';
import { Construct, type IConstruct } from 'constructs';

/** The API metrics the alarms and the dashboard read: what a REST API and an HTTP API both offer. */
export interface WebhookApiMetrics extends IConstruct {
  metricCount(props?: MetricOptions): Metric;
  metricClientError(props?: MetricOptions): Metric;
  metricServerError(props?: MetricOptions): Metric;
  metricLatency(props?: MetricOptions): Metric;
}

/** The public webhook, whichever API Gateway flavour serves it (`apiType`): WebhookApi (REST) or WebhookHttpApi. */
export interface WebhookEndpoint extends IConstruct {
  readonly api: WebhookApiMetrics;
  readonly accessLogGroup: LogGroup;
  /** The URL to paste into AiSensy's or Meta's dashboard: on the custom domain when there is one. */
  readonly webhookUrl: string;
  /** With a custom domain: the name a CNAME points at (when no hosted zone is managed here). */
  readonly domainTarget?: string;
}

export interface WebhookApiProps {
  readonly handler: IFunction;
  /** Steady requests per second before API Gateway answers 429. @default 1000 */
  readonly rateLimit?: number;
  /** Requests above the steady rate accepted at once. @default 2000 */
  readonly burstLimit?: number;
  /** When not empty, only these source ranges may invoke the API (resource policy, before any function runs). */
  readonly allowedSourceCidrs?: readonly string[];
  readonly logRetention: RetentionDays;
  /** The API Gateway stage, the first segment of the URL's path: the deployment's stage name. */
  readonly stageName: string;
  /** A domain of the user's, mapped at its root to the stage; with a hosted zone, its alias record is made too. */
  readonly customDomain?: {
    readonly domainName: string;
    readonly certificate: ICertificate;
    readonly hostedZone?: IHostedZone;
  };
}

/**
 * The public webhook: `POST /webhook` (and `/webhook/{token}` for callers that can only put a secret in the URL),
 * `GET /webhook` for Meta's verification handshake, all proxied to the ingest function.
 */
export class WebhookApi extends Construct implements WebhookEndpoint {
  public readonly api: RestApi;
  public readonly accessLogGroup: LogGroup;
  public readonly webhookUrl: string;
  public readonly domain?: DomainName;
  public readonly domainTarget?: string;

  constructor(scope: Construct, id: string, props: WebhookApiProps) {
    super(scope, id);
    // Kept or deleted with the stack per stage (`retainData`, status-tracking-stack.ts).
    this.accessLogGroup = new LogGroup(this, 'AccessLogs', { retention: props.logRetention });

    const cidrs = props.allowedSourceCidrs ?? [];
    this.api = new RestApi(this, 'Api', {
      // API Gateway keys its metrics by API name: one per stack, so two stacks never share figures or alarms.
      restApiName: `${Stack.of(this).stackName}-webhooks`,
      description: 'WhatsApp delivery status webhooks',
      endpointTypes: [EndpointType.REGIONAL],
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      deployOptions: {
        stageName: props.stageName,
        throttlingRateLimit: props.rateLimit ?? 1_000,
        throttlingBurstLimit: props.burstLimit ?? 2_000,
        metricsEnabled: true,
        // Execution logs may record full request paths, a path token included: off. Access logs (below) are on.
        loggingLevel: MethodLoggingLevel.OFF,
        dataTraceEnabled: false,
        accessLogDestination: new LogGroupLogDestination(this.accessLogGroup),
        // The resource path is the template (/webhook/{token}), never the token itself.
        accessLogFormat: AccessLogFormat.custom(
          JSON.stringify({
            requestId: AccessLogField.contextRequestId(),
            sourceIp: AccessLogField.contextIdentitySourceIp(),
            requestTime: AccessLogField.contextRequestTime(),
            httpMethod: AccessLogField.contextHttpMethod(),
            resourcePath: AccessLogField.contextResourcePath(),
            status: AccessLogField.contextStatus(),
            responseLength: AccessLogField.contextResponseLength(),
            integrationLatency: AccessLogField.contextIntegrationLatency(),
            userAgent: AccessLogField.contextIdentityUserAgent(),
          }),
        ),
      },
      policy: cidrs.length ? sourceIpPolicy(cidrs) : undefined,
    });

    const integration = new LambdaIntegration(props.handler, { proxy: true });
    const webhook = this.api.root.addResource('webhook');
    webhook.addMethod('POST', integration);
    webhook.addMethod('GET', integration);
    webhook.addResource('{token}').addMethod('POST', integration);
    const custom = props.customDomain;
    if (custom) {
      // Mapped at the root: https://<domainName>/webhook, whatever the API or its stage is called.
      this.domain = this.api.addDomainName('Domain', {
        domainName: custom.domainName,
        certificate: custom.certificate,
        endpointType: EndpointType.REGIONAL,
        securityPolicy: SecurityPolicy.TLS_1_2,
      });
      if (custom.hostedZone) {
        new ARecord(this, 'DomainRecord', {
          zone: custom.hostedZone,
          recordName: custom.domainName,
          target: RecordTarget.fromAlias(new ApiGatewayDomain(this.domain)),
        });
      }
    }
    this.domainTarget = this.domain?.domainNameAliasDomainName;
    this.webhookUrl = custom ? `https://${custom.domainName}/webhook` : this.api.urlForPath('/webhook');
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-APIG6',
      reason:
        'Execution logging is off on purpose: it can record full request paths, which may carry the shared webhook token. Access logging (JSON, resource template only) is on.',
    });
  }
}

/** Allows invocation only from the given ranges; the explicit deny wins over the allow for anyone else. */
function sourceIpPolicy(cidrs: readonly string[]): PolicyDocument {
  return new PolicyDocument({
    statements: [
      new PolicyStatement({
        effect: Effect.ALLOW,
        principals: [new AnyPrincipal()],
        actions: ['execute-api:Invoke'],
        resources: ['execute-api:/*'],
      }),
      new PolicyStatement({
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ['execute-api:Invoke'],
        resources: ['execute-api:/*'],
        conditions: { NotIpAddress: { 'aws:SourceIp': [...cidrs] } },
      }),
    ],
  });
}
