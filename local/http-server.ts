import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { BlockList, isIPv6 } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { parameterNamesForAnswer, RequestError } from '../lambdas/shared/errors';
import { type SafeError, safeError } from '../lambdas/shared/log-safe';
import { listen, readBody, replyJson } from './loopback-http';

/** Reading stops here whatever the handler's own limit: a local server must not buffer unbounded bodies. */
const HARD_BODY_LIMIT_BYTES = 16 * 1024 * 1024;

export type ProxyHandler = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

export interface LocalHttpServerOptions {
  port: number;
  host?: string;
  /** Receives /webhook requests as API Gateway REST proxy events, exactly as the deployed ingest function does. */
  webhook: ProxyHandler;
  health: () => Promise<unknown> | unknown;
  /**
   * Read-only JSON routes for the operator tools (GET only), e.g. /report. A route throws a RequestError for a
   * bad query (its fixed reason is answered); anything else is answered 500 with a fixed body, never its text
   * (a database error quotes the data around a fault).
   */
  routes?: Record<string, (url: URL) => Promise<unknown>>;
  /**
   * Read-only HTML pages for a browser (GET only), e.g. /dashboard: the same allow-list, authorization and error
   * handling as `routes`, answered as text/html under a strict Content-Security-Policy (no script, nothing from
   * elsewhere) and never cached. A browser cannot add X-Webhook-Token, so a page also takes the token as the
   * password of HTTP Basic authentication (any user name): a 401 carries `WWW-Authenticate: Basic`, the browser asks
   * once and sends it again with every reload, and the token never appears in a URL or a log.
   */
  pages?: Record<string, (url: URL) => Promise<string>>;
  /** Who may call `routes` (401 otherwise), given the request's lower-case headers. @default everyone */
  authorizeRead?: (headers: Record<string, string | undefined>) => { ok: true } | { ok: false; reason: string };
  /** Where a route's unexpected error is reported (already stripped to what may be logged). @default stderr */
  onRouteError?: (path: string, error: SafeError) => void;
  /**
   * When not empty, every route (/webhook, /report, /delivery-health, /dashboard, /health) answers 403 to any other source
   * before anything runs, as API Gateway's resource policy does for the whole API.
   */
  allowedSourceCidrs?: string[];
}

/** Matches addresses against CIDRs (IPv4 and IPv6; IPv4-mapped IPv6 addresses count as IPv4). */
export function sourceAllowList(cidrs: readonly string[]): ((ip: string) => boolean) | undefined {
  if (cidrs.length === 0) return undefined;
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [network = '', prefix = ''] = cidr.split('/');
    list.addSubnet(network, Number(prefix), isIPv6(network) ? 'ipv6' : 'ipv4');
  }
  return (ip) => {
    const plain = ip.replace(/^::ffff:/i, '');
    return list.check(plain, isIPv6(plain) ? 'ipv6' : 'ipv4');
  };
}

/** The local stand-in for API Gateway: routes, builds proxy events, writes the handler's response back. */
export async function startLocalHttpServer(
  options: LocalHttpServerOptions,
): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const allowed = sourceAllowList(options.allowedSourceCidrs ?? []);
  const server = createServer((req, res) => {
    route(req, res, options, allowed).catch((error: unknown) => {
      replyJson(res, 500, { error: 'internal error' });
      process.stderr.write(`local server error: ${(error as Error).message}\n`);
    });
  });
  server.keepAliveTimeout = 30_000;
  const { url, close } = await listen(server, options.port, options.host);
  return { url, server, close: () => close() };
}

async function route(
  req: IncomingMessage,
  res: ServerResponse,
  options: LocalHttpServerOptions,
  allowed: ((ip: string) => boolean) | undefined,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  // First, for every route: the reports hold the same data the webhooks write (issue 11, item 12).
  if (allowed && !allowed(req.socket.remoteAddress ?? '')) return send(res, jsonResult(403, { message: 'Forbidden' }));
  if (url.pathname === '/health' && req.method === 'GET') return send(res, jsonResult(200, await options.health()));
  const page = req.method === 'GET' ? options.pages?.[url.pathname] : undefined;
  if (page) {
    const headers = lowerCaseHeaders(req);
    const basic = basicAuthPassword(headers.authorization);
    const auth = options.authorizeRead?.(basic === undefined ? headers : { ...headers, 'x-webhook-token': basic }) ?? {
      ok: true,
    };
    if (!auth.ok) {
      const challenge = {
        'www-authenticate': 'Basic realm="WhatsApp delivery tracker: the shared token as password", charset="UTF-8"',
      };
      return send(res, {
        ...jsonResult(401, { error: `${auth.reason} (a browser: the token as the Basic password, any user name)` }),
        headers: { 'content-type': 'application/json', ...challenge },
      });
    }
    try {
      return send(res, { statusCode: 200, headers: PAGE_HEADERS, body: await page(eachParameterOnce(url)) });
    } catch (error) {
      return send(res, routeError(url, error, options));
    }
  }
  const readRoute = req.method === 'GET' ? options.routes?.[url.pathname] : undefined;
  if (readRoute) {
    const auth = options.authorizeRead?.(lowerCaseHeaders(req)) ?? { ok: true };
    if (!auth.ok) return send(res, jsonResult(401, { error: auth.reason }));
    try {
      return send(res, jsonResult(200, await readRoute(eachParameterOnce(url))));
    } catch (error) {
      return send(res, routeError(url, error, options));
    }
  }
  if (url.pathname === '/webhook' || url.pathname.startsWith('/webhook/')) {
    const body = await readBody(req, HARD_BODY_LIMIT_BYTES);
    if (body === undefined) {
      return send(res, {
        statusCode: 413,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ error: 'body too large' }),
      });
    }
    return send(res, await options.webhook(toProxyEvent(req, url, body)));
  }
  return send(res, {
    statusCode: 404,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ error: 'not found' }),
  });
}

/**
 * A read route's or page's query names each parameter once: URLSearchParams.get takes the first of
 * `?refresh=10&refresh=20` and the second would be silently ignored, so a repeat is a 400 naming it.
 */
function eachParameterOnce(url: URL): URL {
  const repeated = [...new Set(url.searchParams.keys())].filter((name) => url.searchParams.getAll(name).length > 1);
  if (repeated.length) throw new RequestError(400, `given more than once: ${parameterNamesForAnswer(repeated)}`);
  return url;
}

/** A read route's or page's failure: a RequestError's fixed reason, anything else a fixed 500 (logged stripped). */
function routeError(url: URL, error: unknown, options: LocalHttpServerOptions): APIGatewayProxyResult {
  if (error instanceof RequestError) return jsonResult(error.statusCode, { error: error.reason });
  const report =
    options.onRouteError ?? ((path, e) => process.stderr.write(`${path} failed: ${e.name}: ${e.message}\n`));
  report(url.pathname, safeError(error));
  return jsonResult(500, { error: 'internal error' });
}

/** A page is self-contained: no script, no request to anywhere (its own origin included), no framing, no cache. */
const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
};

/** The password of an `Authorization: Basic` header (user name ignored), or undefined. */
export function basicAuthPassword(header: string | undefined): string | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}

function toProxyEvent(req: IncomingMessage, url: URL, body: string): APIGatewayProxyEvent {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) headers[name] = String(value);
  const query = Object.fromEntries(url.searchParams.entries());
  const requestId = randomUUID();
  return {
    resource: url.pathname === '/webhook' ? '/webhook' : '/webhook/{token}',
    path: url.pathname,
    httpMethod: req.method ?? 'GET',
    headers,
    multiValueHeaders: {},
    queryStringParameters: Object.keys(query).length ? query : null,
    multiValueQueryStringParameters: null,
    pathParameters: url.pathname.startsWith('/webhook/') ? { token: decodeURIComponent(url.pathname.slice(9)) } : null,
    stageVariables: null,
    body: body === '' ? null : body,
    isBase64Encoded: false,
    requestContext: {
      requestId,
      httpMethod: req.method ?? 'GET',
      path: url.pathname,
      stage: 'local',
      identity: { sourceIp: req.socket.remoteAddress ?? '127.0.0.1' },
    } as APIGatewayProxyEvent['requestContext'],
  };
}

function jsonResult(statusCode: number, body: unknown): APIGatewayProxyResult {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

function lowerCaseHeaders(req: IncomingMessage): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(req.headers))
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  return out;
}

function send(res: ServerResponse, result: APIGatewayProxyResult): void {
  res.writeHead(result.statusCode, result.headers as Record<string, string>);
  res.end(result.body);
}
