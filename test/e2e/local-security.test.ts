import { createHmac } from 'node:crypto';
import {
  LISTEN_DEADLINE_MS,
  type LocalServerProcess,
  startLocalServerProcess,
} from '../../testkit/local-server-process';

/** The protections configured the way a user would locally: environment variables of `npm start`. */
describe('npm start with security settings', () => {
  const body = JSON.stringify({ statuses: [{ id: 'wamid.sec1', status: 'sent', timestamp: '1704103200' }] });
  const post = (server: LocalServerProcess, path: string, headers: Record<string, string>, data = body) =>
    fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: data,
    });

  describe('signatures, tokens, handshake, limits', () => {
    let server: LocalServerProcess;
    beforeAll(async () => {
      server = await startLocalServerProcess({
        DATA_DIR: 'memory',
        META_APP_SECRET: 'meta-secret',
        WEBHOOK_SHARED_TOKEN: 'token-new',
        WEBHOOK_SHARED_TOKEN_PREVIOUS: 'token-old',
        WEBHOOK_VERIFY_TOKEN: 'verify-me',
        MAX_BODY_BYTES: '2000',
      });
    });
    afterAll(() => server.stop());

    it('accepts a valid Meta signature and refuses a missing or wrong one with 401', async () => {
      const signature = `sha256=${createHmac('sha256', 'meta-secret').update(body).digest('hex')}`;
      expect((await post(server, '/webhook', { 'x-hub-signature-256': signature })).status).toBe(200);
      expect((await post(server, '/webhook', {})).status).toBe(401);
      expect((await post(server, '/webhook', { 'x-hub-signature-256': 'sha256=00' })).status).toBe(401);
    });

    it('does not warn about running open when a credential is set', () => {
      expect(server.output()).not.toMatch(/AUTHENTICATION IS OFF/);
    });

    it('accepts a correct path token beside a stale or empty X-Webhook-Token header (any match authenticates)', async () => {
      expect((await post(server, '/webhook/token-new', { 'x-webhook-token': 'token-stale' })).status).toBe(200);
      expect((await post(server, '/webhook/token-old', { 'x-webhook-token': '' })).status).toBe(200);
      expect((await post(server, '/webhook/token-stale', { 'x-webhook-token': '' })).status).toBe(401);
    });

    it('accepts both tokens of a rotation, in the header or the path', async () => {
      expect((await post(server, '/webhook', { 'x-webhook-token': 'token-old' })).status).toBe(200);
      expect((await post(server, '/webhook/token-new', {})).status).toBe(200);
      expect((await post(server, '/webhook/token-guess', {})).status).toBe(401);
    });

    it("answers Meta's verification handshake", async () => {
      const ok = await fetch(
        `${server.url}/webhook?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444`,
      );
      expect([ok.status, await ok.text()]).toEqual([200, '1158201444']);
      expect(
        (await fetch(`${server.url}/webhook?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1`)).status,
      ).toBe(403);
    });

    it('refuses a body over MAX_BODY_BYTES with 413', async () => {
      const big = JSON.stringify({
        statuses: Array.from({ length: 100 }, (_, i) => ({
          id: `wamid.${i}`,
          status: 'sent',
          timestamp: '1704103200',
        })),
      });
      expect((await post(server, '/webhook', { 'x-webhook-token': 'token-new' }, big)).status).toBe(413);
    });

    it('asks a browser for the token on GET /dashboard (Basic challenge) and takes it as the Basic password', async () => {
      const anonymous = await fetch(`${server.url}/dashboard`);
      expect([anonymous.status, anonymous.headers.get('www-authenticate')]).toEqual([
        401,
        expect.stringMatching(/^Basic /),
      ]);
      const basic = (password: string) => ({
        authorization: `Basic ${Buffer.from(`me:${password}`).toString('base64')}`,
      });
      expect((await fetch(`${server.url}/dashboard`, { headers: basic('token-guess') })).status).toBe(401);
      const page = await fetch(`${server.url}/dashboard`, { headers: basic('token-old') });
      expect([page.status, page.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
    });

    it('never echoes internals in an error', async () => {
      const response = await post(server, '/webhook', { 'x-webhook-token': 'token-new' }, '{"statuses": [');
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ error: 'body is not valid JSON' });
    });
  });

  describe('credentials that would silently turn authentication off', () => {
    it.each(['WEBHOOK_SHARED_TOKEN', 'META_APP_SECRET_PREVIOUS'])(
      'refuses to start with a blank %s, naming it',
      async (key) => {
        // A server that started anyway is stopped, so a regression fails here without leaving a process behind.
        const started = startLocalServerProcess({ DATA_DIR: 'memory', [key]: ' ' }).then(async (server) => {
          await server.stop();
          return 'started';
        });
        await expect(started).rejects.toThrow(new RegExp(`${key}: is blank`));
      },
      LISTEN_DEADLINE_MS + 10_000,
    );
  });

  describe('source allow-list', () => {
    let server: LocalServerProcess;
    beforeAll(async () => {
      server = await startLocalServerProcess({ DATA_DIR: 'memory', ALLOWED_SOURCE_CIDRS: '203.0.113.0/24' });
    });
    afterAll(() => server.stop());

    it('warns loudly that it runs open, and says how to close it', async () => {
      // stderr and stdout are separate pipes: the warning may arrive just after the "listening" line.
      for (let i = 0; i < 50 && !/AUTHENTICATION IS OFF/.test(server.output()); i++)
        await new Promise((r) => setTimeout(r, 100));
      expect(server.output()).toMatch(/AUTHENTICATION IS OFF/);
      expect(server.output()).toMatch(/WEBHOOK_SHARED_TOKEN=\$\(openssl rand -hex 32\) npm start/);
    });

    it('refuses a source outside ALLOWED_SOURCE_CIDRS with 403 before the handler runs', async () => {
      const response = await post(server, '/webhook', {});
      expect(response.status).toBe(403);
      for (const path of ['/report', '/dashboard', '/health'])
        expect([path, (await fetch(`${server.url}${path}`)).status]).toEqual([path, 403]);
    });
  });
});
