import { authenticateReader, NO_CREDENTIALS } from '../../lambdas/domain/webhook-auth';
import { maskReportPhones, type Report } from '../../lambdas/report/report-data';
import { RequestError } from '../../lambdas/shared/errors';
import { basicAuthPassword, startLocalHttpServer } from '../../local/http-server';
import { dashboardQuery, reportQuery } from '../../local/report-query';

/** The local server's read routes (GET /report, GET /delivery-health): issue 11, item 12. */
describe('local report routes', () => {
  const dbError =
    'invalid input syntax for type json: Token "\\u0000" is invalid. CONTEXT: JSON data, line 1: {"phone_number":"+919876543210"';
  const routes = {
    '/report': async () => ({ ok: true }),
    '/broken': async () => {
      throw new Error(dbError);
    },
    '/bad-query': async () => {
      throw new RequestError(400, 'from and to must be ISO times');
    },
  };
  const credentials = { ...NO_CREDENTIALS, sharedTokens: ['tok-new', 'tok-old'], metaAppSecrets: ['app-secret'] };

  const pages = {
    '/dashboard': async (url: URL) => {
      dashboardQuery(url.searchParams);
      return '<!doctype html><title>dashboard</title>';
    },
  };

  async function serve(extra: { allowedSourceCidrs?: string[] } = {}) {
    const errors: string[] = [];
    const server = await startLocalHttpServer({
      port: 0,
      webhook: async () => ({ statusCode: 200, body: '{}' }),
      health: () => ({ status: 'ok' }),
      routes,
      pages,
      authorizeRead: (headers) => authenticateReader(headers, credentials),
      onRouteError: (path, error) => errors.push(`${path} ${JSON.stringify(error)}`),
      ...extra,
    });
    return { ...server, errors };
  }

  describe('authentication: the shared token of /webhook, in X-Webhook-Token', () => {
    let server: Awaited<ReturnType<typeof serve>>;
    beforeAll(async () => (server = await serve()));
    afterAll(() => server.close());
    const get = (path: string, headers: Record<string, string> = {}) => fetch(`${server.url}${path}`, { headers });

    it.each([
      ['no token', {}],
      ['a wrong token', { 'x-webhook-token': 'guess' }],
      ['an empty token', { 'x-webhook-token': '' }],
    ])('answers 401 to %s, before the route runs', async (_name, headers) => {
      const response = await get('/report', headers);
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ error: 'missing or invalid X-Webhook-Token' });
    });

    it('answers with either token of a rotation', async () => {
      for (const token of ['tok-new', 'tok-old']) {
        const response = await get('/report', { 'x-webhook-token': token });
        expect([response.status, await response.json()]).toEqual([200, { ok: true }]);
      }
    });

    it('answers a database error with a fixed body, never its text, and logs it without the phone number', async () => {
      const response = await get('/broken', { 'x-webhook-token': 'tok-new' });
      expect(response.status).toBe(500);
      expect(await response.text()).toBe(JSON.stringify({ error: 'internal error' }));
      expect(server.errors).toHaveLength(1);
      expect(server.errors[0]).toMatch(/^\/broken .*invalid input syntax/);
      expect(server.errors[0]).not.toContain('9876543210');
    });

    it("answers a bad query with the route's fixed reason", async () => {
      const response = await get('/bad-query', { 'x-webhook-token': 'tok-new' });
      expect([response.status, await response.json()]).toEqual([400, { error: 'from and to must be ISO times' }]);
    });

    it('answers a parameter given twice with a 400 naming it, on every read route and page, before the route runs', async () => {
      const token = { 'x-webhook-token': 'tok-new' };
      for (const path of [
        '/report?from=a&from=b',
        '/report?x=1&%3Cb%3E=2&%3Cb%3E=3',
        '/dashboard?refresh=10&refresh=20',
      ]) {
        const response = await get(path, token);
        const name = path.includes('%3C') ? '?b?' : path.includes('refresh') ? 'refresh' : 'from';
        expect([response.status, await response.json()]).toEqual([400, { error: `given more than once: ${name}` }]);
      }
      expect((await get('/report?from=a&to=b', token)).status).toBe(200);
      // Authentication first: a caller without the token learns nothing about the query.
      expect((await get('/report?from=a&from=b')).status).toBe(401);
      expect((await get('/dashboard?refresh=10&refresh=20')).status).toBe(401);
    });
  });

  describe('GET /dashboard: an HTML page for a browser, behind the same token', () => {
    let server: Awaited<ReturnType<typeof serve>>;
    beforeAll(async () => (server = await serve()));
    afterAll(() => server.close());
    const basic = (user: string, password: string) => ({
      authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
    });
    const get = (path: string, headers: Record<string, string> = {}) => fetch(`${server.url}${path}`, { headers });

    it('answers 401 with a Basic challenge, so that a browser asks for the token', async () => {
      for (const headers of [{}, basic('me', 'guess'), { 'x-webhook-token': 'guess' }] as Record<string, string>[]) {
        const response = await get('/dashboard', headers);
        expect(response.status).toBe(401);
        expect(response.headers.get('www-authenticate')).toMatch(/^Basic realm="[^"]+", charset="UTF-8"$/);
        expect(((await response.json()) as { error: string }).error).toMatch(/X-Webhook-Token.*Basic password/);
      }
    });

    it('takes the token as the Basic password (any user name) or in X-Webhook-Token; /report does not take Basic', async () => {
      for (const headers of [basic('', 'tok-new'), basic('operator', 'tok-old'), { 'x-webhook-token': 'tok-new' }]) {
        expect((await get('/dashboard', headers)).status).toBe(200);
      }
      expect((await get('/report', basic('operator', 'tok-new'))).status).toBe(401);
    });

    it('is HTML that may load nothing, run no script and is never cached', async () => {
      const response = await get('/dashboard', basic('me', 'tok-new'));
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(response.headers.get('content-security-policy')).toMatch(
        /^default-src 'none'; style-src 'unsafe-inline'; img-src data:;/,
      );
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(await response.text()).toContain('<title>dashboard</title>');
    });

    it('answers a bad parameter with a 400 naming it', async () => {
      const response = await get('/dashboard?refresh=fast', basic('me', 'tok-new'));
      expect([response.status, await response.json()]).toEqual([
        400,
        { error: 'refresh must be a whole number of seconds from 2 to 3600' },
      ]);
      expect(server.errors).toHaveLength(0);
    });
  });

  describe('source allow-list', () => {
    let server: Awaited<ReturnType<typeof serve>>;
    beforeAll(async () => (server = await serve({ allowedSourceCidrs: ['203.0.113.0/24'] })));
    afterAll(() => server.close());

    it.each(['/report', '/dashboard', '/broken', '/health', '/webhook'])(
      'refuses %s to a source outside the list with 403, even with the token',
      async (path) => {
        const response = await fetch(`${server.url}${path}`, { headers: { 'x-webhook-token': 'tok-new' } });
        expect(response.status).toBe(403);
        expect(server.errors).toHaveLength(0);
      },
    );
  });

  it('runs open only when no credential is configured at all', () => {
    expect(authenticateReader({}, NO_CREDENTIALS).ok).toBe(true);
    // A signature secret alone gives the routes no token to check: they stay closed and say what is missing.
    expect(authenticateReader({}, { ...NO_CREDENTIALS, metaAppSecrets: ['s'] })).toEqual({
      ok: false,
      reason: expect.stringMatching(/WEBHOOK_SHARED_TOKEN/),
    });
  });
});

describe('the period of GET /report and GET /dashboard', () => {
  const NOW = new Date('2026-01-31T12:00:00Z');
  const query = (text: string) => new URLSearchParams(text);
  const reason = (run: () => unknown) => {
    try {
      run();
    } catch (error) {
      return [(error as RequestError).statusCode, (error as RequestError).reason];
    }
    return 'no error';
  };

  it('defaults to the 24 hours up to now, in UTC, refreshed every 30 s', () => {
    expect(dashboardQuery(query(''), NOW)).toEqual({
      from: new Date('2026-01-30T12:00:00Z'),
      to: NOW,
      timeZone: 'UTC',
      refreshSeconds: 30,
    });
    expect(reportQuery(query('from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z&timeZone=Asia/Kolkata'), NOW)).toEqual({
      from: new Date('2026-01-01T00:00:00Z'),
      to: new Date('2026-01-02T00:00:00Z'),
      timeZone: 'Asia/Kolkata',
    });
    // A date is its whole UTC day, `to` included: the same rule as npm run report and npm run replay.
    expect(reportQuery(query('from=2026-01-01&to=2026-01-01'), NOW)).toMatchObject({
      from: new Date('2026-01-01T00:00:00Z'),
      to: new Date('2026-01-02T00:00:00Z'),
    });
  });

  it.each([
    ['from=yesterday', 'from expects an ISO 8601 date or time'],
    ['from=', 'from expects an ISO 8601 date or time'],
    ['to=2026-13-45', 'to is not a real date'],
    // A time without its zone would be read in the server's zone: refused (parsePeriodBound).
    ['from=2026-01-01T09:17', 'from has no time zone'],
    ['from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z', 'from must be before to'],
    ['timeZone=Mars/Olympus', 'timeZone must be an IANA time zone name'],
  ])('answers %s with a 400 naming the parameter, never its value', (text, expected) => {
    for (const parse of [reportQuery, dashboardQuery]) {
      expect(reason(() => parse(query(text), NOW))).toEqual([400, expect.stringContaining(expected)]);
      expect(String(reason(() => parse(query(text), NOW)))).not.toMatch(/yesterday|2026-13|09:17|Mars/);
    }
  });

  it.each([
    ['refresh=1', 'refresh must be'],
    ['refresh=3601', 'refresh must be'],
    ['refresh=1e2', 'refresh must be'],
    ['since=24h&<script>=1', 'unknown parameter: since, ?script?'],
  ])('the dashboard answers %s with a 400 naming the parameter', (text, expected) => {
    expect(reason(() => dashboardQuery(query(text), NOW))).toEqual([400, expect.stringContaining(expected)]);
  });

  it('reads the password of a Basic Authorization header, whatever the user name', () => {
    expect(basicAuthPassword(`Basic ${Buffer.from('me:a:b').toString('base64')}`)).toBe('a:b');
    expect(basicAuthPassword(`basic ${Buffer.from(':tok').toString('base64')}`)).toBe('tok');
    expect(basicAuthPassword('Bearer tok')).toBeUndefined();
    expect(basicAuthPassword(`Basic ${Buffer.from('no-colon').toString('base64')}`)).toBeUndefined();
    expect(basicAuthPassword(undefined)).toBeUndefined();
  });
});

describe('maskReportPhones', () => {
  it('masks every phone number of the report and keeps everything else', () => {
    const report = {
      top_recipients: [
        { phone_number: '+919876543210', messages: 3, read: 2, read_rate_percent: 66.7, avg_read_delay_minutes: 1 },
      ],
      resend: [
        {
          message_id: 'wamid.1',
          phone_number: '+14155550123',
          campaign: 'c',
          sent_at: '2026-01-01T00:00:00.000Z',
          minutes_waiting: 12,
        },
      ],
      remind: [
        {
          message_id: 'wamid.2',
          phone_number: null,
          campaign: null,
          delivered_at: '2026-01-01T00:00:00.000Z',
          hours_unread: 30,
        },
      ],
      by_campaign: [],
    } as unknown as Report;
    const masked = maskReportPhones(report);
    expect(masked.top_recipients[0]).toEqual({ ...report.top_recipients[0], phone_number: '+91********10' });
    expect(masked.resend[0]).toEqual({ ...report.resend[0], phone_number: '+14*******23', recipient_user_id: null });
    expect(masked.remind[0]?.phone_number).toBeNull();
    expect(JSON.stringify(masked)).not.toMatch(/\d{5}/);
  });
});
