import { createHmac } from 'node:crypto';
import {
  authenticateWebhook,
  NO_CREDENTIALS,
  verificationChallenge,
  type WebhookCredentials,
} from '../../lambdas/domain/webhook-auth';

const body = Buffer.from('{"object": "whatsapp_business_account",  "entry": []}');
const sign = (secret: string, data: Buffer | string) => createHmac('sha256', secret).update(data).digest('hex');
const creds = (overrides: Partial<WebhookCredentials>): WebhookCredentials => ({ ...NO_CREDENTIALS, ...overrides });

describe('authenticateWebhook', () => {
  const meta = creds({ metaAppSecrets: ['app-secret-new', 'app-secret-old'] });

  it('accepts a Meta signature over the exact raw body, with the current or the previous secret', () => {
    for (const secret of ['app-secret-new', 'app-secret-old']) {
      const headers = { 'x-hub-signature-256': `sha256=${sign(secret, body)}` };
      expect(authenticateWebhook({ headers, rawBody: body }, meta)).toEqual({ ok: true, method: 'meta-signature' });
    }
  });

  it.each([
    ['a missing signature', {}],
    ['a signature with another secret', { 'x-hub-signature-256': `sha256=${sign('someone-else', body)}` }],
    [
      'a signature of the compact re-serialization (Meta signs raw bytes)',
      { 'x-hub-signature-256': `sha256=${sign('app-secret-new', JSON.stringify(JSON.parse(body.toString())))}` },
    ],
    ['a truncated signature', { 'x-hub-signature-256': `sha256=${sign('app-secret-new', body).slice(0, 20)}` }],
  ])('refuses %s', (_name, headers) => {
    expect(authenticateWebhook({ headers, rawBody: body }, meta)).toEqual({ ok: false, reason: expect.any(String) });
  });

  it('accepts an AiSensy signature over the raw body or over the compact re-serialized JSON', () => {
    const aisensy = creds({ aisensySecrets: ['ais-secret'] });
    const compact = JSON.stringify(JSON.parse(body.toString()));
    expect(
      authenticateWebhook({ headers: { 'x-aisensy-signature': sign('ais-secret', body) }, rawBody: body }, aisensy).ok,
    ).toBe(true);
    expect(
      authenticateWebhook({ headers: { 'x-aisensy-signature': sign('ais-secret', compact) }, rawBody: body }, aisensy)
        .ok,
    ).toBe(true);
    expect(
      authenticateWebhook({ headers: { 'x-aisensy-signature': sign('other', compact) }, rawBody: body }, aisensy).ok,
    ).toBe(false);
  });

  it('accepts a shared token from the header or the path, and both tokens during a rotation', () => {
    const shared = creds({ sharedTokens: ['token-2', 'token-1'] });
    expect(authenticateWebhook({ headers: { 'x-webhook-token': 'token-1' }, rawBody: body }, shared).ok).toBe(true);
    expect(authenticateWebhook({ headers: {}, rawBody: body, pathToken: 'token-2' }, shared).ok).toBe(true);
    expect(authenticateWebhook({ headers: { 'x-webhook-token': 'token-3' }, rawBody: body }, shared).ok).toBe(false);
    expect(authenticateWebhook({ headers: {}, rawBody: body }, shared).ok).toBe(false);
  });

  describe('token precedence: any presented token that matches authenticates; a blank one counts as absent', () => {
    const shared = creds({ sharedTokens: ['token-2', 'token-1'] });
    it.each([
      ['a stale header beside a correct path token', { 'x-webhook-token': 'token-0' }, 'token-2'],
      ['an empty header beside a correct path token', { 'x-webhook-token': '' }, 'token-1'],
      ['a whitespace header beside a correct path token', { 'x-webhook-token': '  ' }, 'token-2'],
      ['a correct header beside a stale path token', { 'x-webhook-token': 'token-1' }, 'token-0'],
      ['a correct header beside an empty path token', { 'x-webhook-token': 'token-2' }, ''],
    ])('accepts %s', (_name, headers, pathToken) => {
      expect(authenticateWebhook({ headers, rawBody: body, pathToken }, shared)).toEqual({
        ok: true,
        method: 'shared-token',
      });
    });
    it.each([
      ['two wrong tokens', { 'x-webhook-token': 'token-0' }, 'token-9'],
      ['two blank tokens', { 'x-webhook-token': '' }, ' '],
    ])('refuses %s', (_name, headers, pathToken) => {
      expect(authenticateWebhook({ headers, rawBody: body, pathToken }, shared).ok).toBe(false);
    });
    it('lets a valid signature through whatever wrong token is also presented', () => {
      const both = creds({ metaAppSecrets: ['app-secret-new'], sharedTokens: ['token-1'] });
      const headers = { 'x-hub-signature-256': `sha256=${sign('app-secret-new', body)}`, 'x-webhook-token': 'stale' };
      expect(authenticateWebhook({ headers, rawBody: body, pathToken: 'also-stale' }, both)).toEqual({
        ok: true,
        method: 'meta-signature',
      });
    });
  });

  it('accepts anything only when no credential is configured', () => {
    expect(authenticateWebhook({ headers: {}, rawBody: body }, NO_CREDENTIALS)).toEqual({ ok: true, method: 'none' });
  });
});

describe('verificationChallenge (Meta handshake)', () => {
  const withToken = creds({ verifyToken: 'verify-me' });
  it('returns the challenge when mode and token match', () => {
    expect(
      verificationChallenge(
        { 'hub.mode': 'subscribe', 'hub.verify_token': 'verify-me', 'hub.challenge': '1158201444' },
        withToken,
      ),
    ).toBe('1158201444');
  });
  it.each([
    [{ 'hub.mode': 'subscribe', 'hub.verify_token': 'wrong', 'hub.challenge': '1' }],
    [{ 'hub.mode': 'unsubscribe', 'hub.verify_token': 'verify-me', 'hub.challenge': '1' }],
    [{ 'hub.mode': 'subscribe', 'hub.verify_token': 'verify-me' }],
    [null],
  ])('refuses %p', (query) => {
    expect(verificationChallenge(query, withToken)).toBeUndefined();
  });
  it('refuses everything when no verify token is configured', () => {
    expect(
      verificationChallenge({ 'hub.mode': 'subscribe', 'hub.verify_token': '', 'hub.challenge': '1' }, NO_CREDENTIALS),
    ).toBeUndefined();
  });
});
