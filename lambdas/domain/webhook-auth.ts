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
    const match = credentials.aisensySecrets.some((secret) => bodies.some((body) => safeEqual(given, hmacHex(secret, body))));
    if (match) return { ok: true, method: 'aisensy-signature' };
  }

  const token = request.headers['x-webhook-token'] ?? request.pathToken;
  if (token && credentials.sharedTokens.some((expected) => safeEqual(token, expected))) {
    return { ok: true, method: 'shared-token' };
  }

  return { ok: false, reason: 'missing or invalid webhook signature or token' };
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
