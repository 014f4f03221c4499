import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';

/**
 * What API Gateway hands the ingest function: a REST API's proxy event, or an HTTP API's in payload format 1.0
 * (the REST shape plus `version: "1.0"`) or 2.0 (`apiType: http` deploys 2.0). AWS's description of both formats:
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
 */
export type ApiGatewayEvent = APIGatewayProxyEvent | APIGatewayProxyEventV2;

export function isPayloadFormat2(event: ApiGatewayEvent): event is APIGatewayProxyEventV2 {
  return (event as { version?: unknown }).version === '2.0';
}

/**
 * The event in the REST (payload 1.0) shape the ingest reads. What 2.0 carries differently, and how it maps:
 * - method: `requestContext.http.method`, not `httpMethod`;
 * - headers: names already lower-case, duplicates joined with commas in one value (1.0 keeps the last in `headers`
 *   and all in `multiValueHeaders`, which the ingest does not read). A duplicated signature header therefore
 *   arrives as `sha256=a,sha256=b` and fails authentication (401) rather than picking one: fail closed either way;
 * - cookies: a separate `cookies` array, dropped (a webhook's credentials are never cookies);
 * - `pathParameters`, `queryStringParameters` and `body` are absent rather than null when there are none
 *   (duplicate query parameters are comma-joined too);
 * - `isBase64Encoded`: the same meaning (API Gateway sets it for bodies it does not treat as text);
 * - request id: `requestContext.requestId` in both;
 * - receipt time: `requestContext.timeEpoch` (ms), where 1.0 has `requestContext.requestTimeEpoch`;
 * - source IP and user agent: under `requestContext.http`, where 1.0 has `requestContext.identity`.
 */
export function toProxyEvent(event: ApiGatewayEvent): APIGatewayProxyEvent {
  if (!isPayloadFormat2(event)) return event;
  const { http, requestId, timeEpoch, stage, accountId, apiId, domainName, domainPrefix } = event.requestContext;
  // routeKey is "POST /webhook/{token}": the template, never the token (the REST event's `resource`).
  const resource = event.routeKey.replace(/^\S+\s+/, '');
  return {
    resource,
    path: event.rawPath,
    httpMethod: http.method,
    headers: { ...event.headers },
    multiValueHeaders: {},
    queryStringParameters: event.queryStringParameters ?? null,
    multiValueQueryStringParameters: null,
    pathParameters: event.pathParameters ?? null,
    stageVariables: event.stageVariables ?? null,
    body: event.body ?? null,
    isBase64Encoded: event.isBase64Encoded,
    requestContext: {
      accountId,
      apiId,
      domainName,
      domainPrefix,
      httpMethod: http.method,
      path: http.path,
      protocol: http.protocol,
      requestId,
      requestTimeEpoch: timeEpoch,
      resourcePath: resource,
      stage,
      identity: { sourceIp: http.sourceIp, userAgent: http.userAgent },
    } as APIGatewayProxyEvent['requestContext'],
  };
}
