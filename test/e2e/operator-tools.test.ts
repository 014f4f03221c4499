import { SqlTrackerStore } from '../../lambdas/store/sql-tracker-store';
import {
  LISTEN_DEADLINE_MS,
  type LocalServerProcess,
  startLocalServerProcess,
  waitUntilDrained,
} from '../../testkit/local-server-process';
import { createTestDatabase, hasRealPostgres, type TestDatabase } from '../support/databases';
import { npmRun, timeoutForRuns } from '../support/npm-run';

describe('seed:demo, then report, against npm start', () => {
  // Started closed, as anyone should run it: the tools send the shared token from the same variable.
  const TOKEN = 'operator-token-0123456789';
  let server: LocalServerProcess;
  let env: Record<string, string>;
  beforeAll(
    async () => {
      server = await startLocalServerProcess({ DATA_DIR: 'memory', WEBHOOK_SHARED_TOKEN: TOKEN });
      env = { LOCAL_URL: server.url, WEBHOOK_SHARED_TOKEN: TOKEN };
      const seeded = await npmRun('seed:demo', ['--messages', '300', '--url', server.url], env);
      expect(seeded.code).toBe(0);
      // Not a terminal: the summary alone, without the progress line's carriage returns.
      expect(seeded.stdout).toMatch(
        /^Seeded 300 messages \(\d+ webhooks\) in [\d.]+ s\. Now: npm run report -- --by campaign$/m,
      );
      expect(seeded.stdout).not.toContain('\r');
      await waitUntilDrained(server.url);
    },
    LISTEN_DEADLINE_MS + timeoutForRuns(1) + 30_000,
  );
  afterAll(() => server.stop());
  // Runs two tests read, made once: each tool run costs seconds, and tens of them on a loaded CI.
  const shared = new Map<string, ReturnType<typeof npmRun>>();
  const runOnce = (...args: string[]) => {
    const key = args.join(' ');
    if (!shared.has(key)) shared.set(key, npmRun('report', args, env));
    return shared.get(key)!;
  };

  it(
    'gives a sensible report as JSON with the headline keys',
    async () => {
      const { code, stdout } = await npmRun('report', ['--json', '--since', '24h'], env);
      expect(code).toBe(0);
      const report = JSON.parse(stdout);
      expect(report.total_messages).toBe(300);
      expect(report.delivery_rate_percent).toBeGreaterThan(80);
      expect(report.delivery_rate_percent).toBeLessThan(100);
      expect(report.read_rate_percent).toBeGreaterThan(20);
      expect(report.avg_delivery_seconds).toBeGreaterThan(0);
      expect(report.avg_read_delay_minutes).toBeGreaterThan(0);
      expect(report.failures.length).toBeGreaterThan(0);
      expect(report.by_campaign.map((c: { campaign: string }) => c.campaign).sort()).toEqual([
        'diwali_offer',
        'order_updates',
        'winback_nov',
      ]);
    },
    timeoutForRuns(1),
  );

  it(
    'answers the report routes only with the token, and masks every phone number',
    async () => {
      for (const route of ['/report', '/delivery-health']) {
        expect((await fetch(`${server.url}${route}`)).status).toBe(401);
        expect((await fetch(`${server.url}${route}`, { headers: { 'x-webhook-token': 'wrong' } })).status).toBe(401);
      }
      const response = await fetch(`${server.url}/report`, { headers: { 'x-webhook-token': TOKEN } });
      expect(response.status).toBe(200);
      const report = (await response.json()) as {
        top_recipients: { phone_number: string }[];
        resend: { phone_number: string }[];
      };
      const phones = [...report.top_recipients, ...report.resend].map(
        (row: { phone_number: string }) => row.phone_number,
      );
      expect(phones.length).toBeGreaterThan(0);
      for (const phone of phones) expect(phone).toMatch(/^\+\d{2}\*+\d{2}$/);
      // The CSV list read through the server carries masked numbers too.
      const csv = await runOnce('--csv', 'resend');
      expect(csv.stdout).not.toMatch(/\+\d{6}/);
    },
    timeoutForRuns(1),
  );

  it('keeps the cohort windows of /delivery-health, and answers a bad one with a fixed 400', async () => {
    const headers = { 'x-webhook-token': TOKEN };
    const ok = await fetch(`${server.url}/delivery-health?deliveryWindowMinutes=120&readWindowHours=48`, { headers });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ cohort_sent: expect.any(Number) });
    const bad = await fetch(`${server.url}/delivery-health?deliveryWindowMinutes=abc`, { headers });
    expect([bad.status, await bad.json()]).toEqual([400, { error: 'invalid cohort windows: deliveryWindowMinutes' }]);
  });

  it(
    '--show-phones through the server, which masks every number, is refused and says where full numbers are',
    async () => {
      const { code, stdout, stderr } = await npmRun('report', ['--show-phones'], env);
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toMatch(/--show-phones cannot show numbers read from the running local server at .*: it masks/);
      expect(stderr).toMatch(/set DATABASE_URL/);
    },
    timeoutForRuns(1),
  );

  it(
    'seed:demo tells a refused token from a server that is not there',
    async () => {
      const refused = await npmRun('seed:demo', ['--messages', '10', '--url', server.url], {
        WEBHOOK_SHARED_TOKEN: 'not-the-token',
      });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/webhook answered 401: .*run this with its WEBHOOK_SHARED_TOKEN\)\n$/);
      expect(refused.stderr).not.toMatch(/is npm start running/);
      const absent = await npmRun('seed:demo', ['--messages', '10', '--url', 'http://127.0.0.1:1'], env);
      expect(absent.code).toBe(1);
      expect(absent.stderr).toMatch(/\(is npm start running\?\)\n$/);
    },
    timeoutForRuns(2),
  );

  it(
    'a tool without the token says which variable to set',
    async () => {
      const { code, stderr } = await npmRun('report', ['--json'], { LOCAL_URL: server.url, WEBHOOK_SHARED_TOKEN: '' });
      expect(code).toBe(1);
      expect(stderr).toMatch(/\/report answered 401: set WEBHOOK_SHARED_TOKEN/);
    },
    timeoutForRuns(1),
  );

  it(
    'prints a readable table per campaign',
    async () => {
      const { code, stdout } = await runOnce('--by', 'campaign');
      expect(code).toBe(0);
      expect(stdout).toMatch(/WhatsApp delivery report/);
      expect(stdout).toMatch(/diwali_offer/);
      expect(stdout).toMatch(/Failures by error code/);
      expect(stdout).toMatch(/source: the running local server/);
    },
    timeoutForRuns(1),
  );

  it(
    'names the re-send list by the deployed undeliveredAfterMinutes (cdk.json or the environment)',
    async () => {
      const standard = await runOnce('--by', 'campaign');
      expect(standard.stdout).toMatch(/To re-send \(not delivered after 10 minutes, or failed/);
      const changed = await npmRun('report', [], { ...env, UNDELIVERED_AFTER_MINUTES: '25' });
      expect(changed.code).toBe(0);
      expect(changed.stdout).toMatch(/To re-send \(not delivered after 25 minutes, or failed/);
    },
    timeoutForRuns(2),
  );

  it(
    'writes the re-send list as CSV, leaving out (and counting on stderr) failures a re-send cannot fix',
    async () => {
      const { code, stdout, stderr } = await runOnce('--csv', 'resend');
      expect(code).toBe(0);
      const [header, ...rows] = stdout.trim().split('\n');
      expect(header).toBe(
        'message_id,phone_number,campaign,sent_at,minutes_waiting,failed_at,error_code,resend_when,recipient_user_id',
      );
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.filter((r) => r.split(',')[6] === '131026')).toEqual([]); // undeliverable: never listed
      expect(stderr).toMatch(/Left out: \d+ failed messages? a re-send cannot fix; 131026/);
    },
    timeoutForRuns(1),
  );

  it(
    'reports cost by campaign and category, with an estimate from a rate card and totals in JSON',
    async () => {
      const text = await npmRun('report', ['--cost'], env);
      expect(text.code).toBe(0);
      expect(text.stdout).toMatch(/diwali_offer +marketing/);
      expect(text.stdout).toMatch(/order_updates +utility/);
      expect(text.stdout).toMatch(/No rate card: counts only/);
      const json = await npmRun('report', ['--cost', '--rates', 'docs/rates.sample.json', '--json'], env);
      expect(json.code).toBe(0);
      const cost = JSON.parse(json.stdout);
      expect(cost.currency).toBe('USD');
      expect(cost.totals.messages).toBe(300);
      expect(cost.totals.billable).toBeGreaterThan(0);
      expect(cost.totals.free).toBeGreaterThan(0);
      expect(cost.totals.estimated_cost).toBeGreaterThan(0);
      const missing = await npmRun('report', ['--cost', '--rates', 'no/such/rates.json'], env);
      expect(missing).toMatchObject({
        code: 1,
        stderr: expect.stringContaining(
          'report failed: --rates no/such/rates.json: no such file; docs/rates.sample.json is an example',
        ),
      });
    },
    timeoutForRuns(3),
  );

  it(
    'alerts:check reads the figures from the running server, and a healthy demo campaign fires nothing critical',
    async () => {
      const { code, stdout } = await npmRun('alerts:check', ['--json'], env);
      const result = JSON.parse(stdout);
      expect(result.health.cohort_sent).toBeGreaterThanOrEqual(50); // large enough to be judged
      expect(result.health.undelivered_count).toBeGreaterThan(0); // phones that are off, as in every real broadcast
      expect(result.results.map((r: { name: string }) => r.name)).toEqual([
        'deliveryRate',
        'undelivered',
        'readRate',
        'deliveryTime',
        'failureSpike',
      ]);
      expect(result.results.filter((r: { fires: boolean }) => r.fires)).toEqual([]);
      expect(result.critical).toBe(false);
      expect(code).toBe(0);
    },
    timeoutForRuns(1),
  );

  // A bad argument's exit code 2 and usage: test/e2e/cli-usage.test.ts runs it; test/unit/report-args.test.ts has the cases.
});

(hasRealPostgres() ? describe : describe.skip)('alerts:check on DATABASE_URL (PostgreSQL)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('postgres');
  });
  afterAll(() => db.drop());

  it(
    'exits 0 when nothing fires',
    async () => {
      const { code, stdout } = await npmRun('alerts:check', [], { DATABASE_URL: db.url ?? '' });
      expect(code).toBe(0);
      expect(stdout).toMatch(/No critical alert/);
    },
    timeoutForRuns(1),
  );

  it(
    'does not judge a handful of messages: 12 stuck ones are too few to page anyone',
    async () => {
      const sent = new Date(Date.now() - 30 * 60_000).toISOString();
      await new SqlTrackerStore(db.executor).applyStatusUpdates(
        Array.from({ length: 12 }, (_, i) => ({ message_id: `few${i}`, status: 'sent' as const, timestamp: sent })),
      );
      const { code, stdout } = await npmRun('alerts:check', [], { DATABASE_URL: db.url ?? '' });
      expect(stdout).toMatch(
        /ok\s+critical\s+deliveryRate\s+12 messages in the delivery cohort: fewer than the 50 needed to judge/,
      );
      expect(code).toBe(0);
    },
    timeoutForRuns(1),
  );

  it(
    'exits 2 and says why when a critical alert fires',
    async () => {
      const sent = new Date(Date.now() - 30 * 60_000).toISOString();
      await new SqlTrackerStore(db.executor).applyStatusUpdates(
        Array.from({ length: 60 }, (_, i) => ({ message_id: `stuck${i}`, status: 'sent' as const, timestamp: sent })),
      );
      const { code, stdout } = await npmRun('alerts:check', [], { DATABASE_URL: db.url ?? '' });
      expect(code).toBe(2);
      expect(stdout).toMatch(
        /FIRES\s+critical\s+undelivered\s+72 of 72 recent messages \(100 %\) have neither a delivery nor a failure/,
      );
      expect(stdout).toMatch(/FIRES\s+critical\s+deliveryRate\s+delivery rate 0 % of 72 messages/);
    },
    timeoutForRuns(1),
  );

  it(
    'uses the settings the stack deploys: an environment override moves the threshold',
    async () => {
      const { code, stdout } = await npmRun('alerts:check', [], {
        DATABASE_URL: db.url ?? '',
        ALARMS: JSON.stringify({ deliveryRate: { minCohort: 1000 }, undelivered: { enabled: false } }),
      });
      expect(stdout).toMatch(
        /ok\s+critical\s+deliveryRate\s+72 messages in the delivery cohort: fewer than the 1000 needed to judge/,
      );
      expect(stdout).toMatch(/off\s+critical\s+undelivered/);
      expect(code).toBe(0);
    },
    timeoutForRuns(1),
  );
});
