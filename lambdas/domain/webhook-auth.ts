import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Who may call the webhook. Each list holds the current value and, during a rotation, the previous one: both are
 * valid until the old one is removed, so a secret can be rotated without downtime.
 */
export interface WebhookCredentials {
  /** Meta app secrets: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`. */
  metaAppSecrets: string[];
  /** AiSensy webhook secrets: `X-AiSensy-Signature: <hex HMAC-SHA256>`. */
  aisensySecrets: string[];
  /** Shared tokens for callers that cannot sign: header `X-Webhook-Token` or path `/webhook/{token}`. */
  sharedTokens: string[];
  /** Meta's verification handshake token (`GET /webhook?hub.verify_token=...`). */
  verifyToken?: string;
}

export const NO_CREDENTIALS: WebhookCredentials = { metaAppSecrets: [], aisensySecrets: [], sharedTokens: [] };

export function hasAnyCredential(credentials: WebhookCredentials): boolean {
  return credentials.metaAppSecrets.length + credentials.aisensySecrets.length + credentials.sharedTokens.length > 0;
}

export interface SignedRequest {
  /** Header names in lower case. */
  headers: Record<string, string | undefined>;
  /** The exact bytes received (after API Gateway's base64 decoding). */
  rawBody: Buffer;
  /** The `{token}` of `/webhook/{token}`, if the request came that way. */
  pathToken?: string;
}

export type AuthResult =
  | { ok: true; method: 'meta-signature' | 'aisensy-signature' | 'shared-token' | 'none' }
  | { ok: false; reason: string };

/**
 * Accepts the request when any configured method vouches for it. With no credential configured it accepts only
 * when authentication is not required (local runs, or a deployment that explicitly opted out).
 */
export function authenticateWebhook(request: SignedRequest, credentials: WebhookCredentials): AuthResult {
  if (!hasAnyCredential(credentials)) return { ok: true, method: 'none' };

  const metaSignature = request.headers['x-hub-signature-256'];
  if (metaSignature && credentials.metaAppSecrets.length) {
    const given = metaSignature.replace(/^sha256=/i, '');
    if (credentials.metaAppSecrets.some((secret) => safeEqual(given.toLowerCase(), hmacHex(secret, request.rawBody)))) {
      return { ok: true, method: 'meta-signature' };
    }
  }

  const aisensySignature = request.headers['x-aisensy-signature'];
  if (aisensySignature && credentials.aisensySecrets.length) {
    const given = aisensySignature.replace(/^sha256=/i, '').toLowerCase();
    // AiSensy's documentation signs the compact re-serialized JSON, not the raw bytes: accept either.
    const bodies = [request.rawBody, compactJson(request.rawBody)].filter((b): b is Buffer => b !== undefined);
    const match = credentials.aisensySecrets.some((secret) =>
      bodies.some((body) => safeEqual(given, hmacHex(secret, body))),
    );
    if (match) return { ok: true, method: 'aisensy-signature' };
  }

  if (
    presentedTokens(request).some((token) => credentials.sharedTokens.some((expected) => safeEqual(token, expected)))
  ) {
    return { ok: true, method: 'shared-token' };
  }

  return { ok: false, reason: 'missing or invalid webhook signature or token' };
}

/**
 * The shared tokens a request presents: the `X-Webhook-Token` header and the `/webhook/{token}` path, in that order.
 * Precedence: **any** presented token that matches authenticates, so a stale header a proxy or an old integration
 * still adds cannot shadow a correct path token (or the reverse). A blank value (empty or whitespace) counts as
 * absent. A wrong token never matters when another method (a signature) vouches for the request.
 */
export function presentedTokens(request: Pick<SignedRequest, 'headers' | 'pathToken'>): string[] {
  return [request.headers['x-webhook-token'], request.pathToken].filter(
    (t): t is string => typeof t === 'string' && t.trim() !== '',
  );
}

/**
 * The local report routes (GET /report, GET /delivery-health): a bearer of a shared token in `X-Webhook-Token`.
 * There is no body to sign, and a path or query token would end up in logs and shell history. With no credential
 * configured at all the local server runs open (and says so at start), like its /webhook.
 */
export function authenticateReader(
  headers: Record<string, string | undefined>,
  credentials: WebhookCredentials,
): AuthResult {
  if (!hasAnyCredential(credentials)) return { ok: true, method: 'none' };
  if (
    presentedTokens({ headers }).some((token) =>
      credentials.sharedTokens.some((expected) => safeEqual(token, expected)),
    )
  ) {
    return { ok: true, method: 'shared-token' };
  }
  return {
    ok: false,
    reason: credentials.sharedTokens.length
      ? 'missing or invalid X-Webhook-Token'
      : 'the report routes need WEBHOOK_SHARED_TOKEN on the server and in X-Webhook-Token',
  };
}

/** Meta's handshake: the challenge when mode and token match, otherwise undefined (answered with 403). */
export function verificationChallenge(
  query: Record<string, string | undefined> | null,
  credentials: WebhookCredentials,
): string | undefined {
  if (!query || !credentials.verifyToken) return undefined;
  const { 'hub.mode': mode, 'hub.verify_token': token, 'hub.challenge': challenge } = query;
  if (mode !== 'subscribe' || token === undefined || challenge === undefined) return undefined;
  return safeEqual(token, credentials.verifyToken) ? challenge : undefined;
}

function hmacHex(secret: string, body: Buffer): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

function compactJson(body: Buffer): Buffer | undefined {
  try {
    return Buffer.from(JSON.stringify(JSON.parse(body.toString('utf8'))), 'utf8');
  } catch {
    return undefined;
  }
}

/** Constant-time comparison that also hides the expected value's length (both sides are hashed first). */
export function safeEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}
