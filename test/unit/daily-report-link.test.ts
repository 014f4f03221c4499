import { Logger } from '@aws-lambda-powertools/logger';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { DEFAULT_ALARMS, DEFAULT_COHORTS } from '../../lambdas/domain/alert-settings';
import { renderDailyReport } from '../../lambdas/report/daily-report';
import { OPTIONAL_SECTIONS, type OptionalSection, SECTION_LABELS } from '../../lambdas/report/report-data';
import { SECTIONS_ON_THE_PAGE } from '../../lambdas/report/report-html';
import type { DeliverySummary, HealthStore } from '../../lambdas/store/health-store';
import type { ReportFunctionCall } from '../../lambdas/store/report-functions';
import type { DailyReportLinks, ReportDay } from '../../lambdas/sweeper/report-link';
import { S3ReportLinks } from '../../lambdas/sweeper/s3-report-links';
import { createSweeper } from '../../lambdas/sweeper/sweep-delivery-health';
import { capturingMetrics, silentLogger } from '../support/powertools';

const NOW = new Date('2026-03-02T08:00:00.000Z');
const DAY: ReportDay = {
  from: new Date('2026-03-01T00:00:00.000Z'),
  to: new Date('2026-03-02T00:00:00.000Z'),
  label: '2026-03-01',
};
const BUCKET = 'tracker-reports-abc123';
const HOURS_12 = 12 * 3600;
const PAGE = '<!doctype html><title>report</title>';

/** The S3 client stubbed at the SDK's send layer; presigning runs for real (it signs locally, sending nothing). */
const s3 = mockClient(S3Client);
const clientWith = (expiration?: Date) =>
  new S3Client({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 'secret', sessionToken: 'token', expiration },
  });
const links = (
  options: { expiration?: Date; render?: () => Promise<{ html: string; unavailableSections: string[] }> } = {},
) =>
  new S3ReportLinks({
    s3: () => clientWith(options.expiration),
    bucket: BUCKET,
    stage: 'prod',
    lifetimeSeconds: HOURS_12,
    render: options.render ?? (async () => ({ html: PAGE, unavailableSections: [] })),
    now: () => NOW,
  });

beforeEach(() => s3.reset());

describe('S3ReportLinks', () => {
  it('uploads the page as UTF-8 HTML under reports/<stage>/<day>.html', async () => {
    s3.on(PutObjectCommand).resolves({});
    await links().publish(DAY);

    const puts = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(puts).toEqual([
      expect.objectContaining({
        Bucket: BUCKET,
        Key: 'reports/prod/2026-03-01.html',
        Body: PAGE,
        ContentType: 'text/html; charset=utf-8',
        CacheControl: 'private, no-store',
      }),
    ]);
  });

  it('shares it as a presigned GET of that object, valid for the configured lifetime', async () => {
    s3.on(PutObjectCommand).resolves({});
    const link = await links().publish(DAY);

    const url = new URL(link.url);
    expect(url.hostname).toBe(`${BUCKET}.s3.eu-west-1.amazonaws.com`);
    expect(url.pathname).toBe('/reports/prod/2026-03-01.html');
    expect(url.searchParams.get('X-Amz-Expires')).toBe(String(HOURS_12));
    expect(url.searchParams.get('X-Amz-Date')).toBe('20260302T080000Z');
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host');
    expect(url.searchParams.get('X-Amz-Security-Token')).toBe('token');
    expect(link.expiresAt).toEqual(new Date('2026-03-02T20:00:00.000Z'));
    expect(link.cutShortByCredentials).toBe(false);
    // Presigning sent nothing: the only request is the upload.
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
  });

  it('says when the signing credentials expire before the URL does, since the URL dies with them', async () => {
    s3.on(PutObjectCommand).resolves({});
    const expiration = new Date('2026-03-02T11:30:00.000Z');
    const link = await links({ expiration }).publish(DAY);
    expect(new URL(link.url).searchParams.get('X-Amz-Expires')).toBe(String(HOURS_12));
    expect(link).toMatchObject({ expiresAt: expiration, cutShortByCredentials: true });
  });
});

describe('the daily summary with its report link', () => {
  const summary: DeliverySummary = {
    window_start: DAY.from.toISOString(),
    window_end: DAY.to.toISOString(),
    total_messages: 1_000,
    sent: 1_000,
    delivered: 950,
    read: 600,
    failed: 20,
    delivery_rate_percent: 95,
    read_rate_percent: 63.16,
    avg_delivery_seconds: 3.5,
  };
  const store: HealthStore = {
    deliveryHealth: async () => {
      throw new Error('not used');
    },
    deliverySummary: async () => summary,
  };

  async function dailySummary(reportLinks: DailyReportLinks, reportLinkTimeoutMs?: number) {
    const sent: { subject: string; message: string }[] = [];
    const capture = capturingMetrics();
    try {
      const sweep = createSweeper({
        store: () => store,
        metrics: capture.metrics,
        logger: silentLogger(),
        cohorts: DEFAULT_COHORTS,
        failureSpike: DEFAULT_ALARMS.failureSpike,
        notifier: { publish: async (subject, message) => void sent.push({ subject, message }) },
        reportLinks,
        reportLinkTimeoutMs,
        now: () => NOW,
      });
      const result = await sweep({ kind: 'daily-summary' });
      return {
        result,
        sent,
        linkFailures: capture.values('DailyReportLinkFailures').map((v) => v.value),
        sectionsUnavailable: capture.values('DailyReportSectionsUnavailable').map((v) => v.value),
        summaryFailures: capture.values('DailySummaryFailures'),
      };
    } finally {
      capture.restore();
    }
  }

  it("ends the summary with the link to yesterday's report and until when it works", async () => {
    s3.on(PutObjectCommand).resolves({});
    const { sent, linkFailures, sectionsUnavailable } = await dailySummary(links());

    expect(sent).toHaveLength(1);
    const lines = sent[0]!.message.split('\n');
    expect(lines[0]).toBe('WhatsApp delivery summary for 2026-03-01 (UTC)');
    const url = lines.find((l) => l.startsWith('https://'));
    expect(new URL(url!).pathname).toBe('/reports/prod/2026-03-01.html');
    expect(sent[0]!.message).toContain('The link works until 2026-03-02 20:00 UTC.');
    expect(sent[0]!.message).toContain(`aws s3 presign s3://${BUCKET}/reports/prod/2026-03-01.html`);
    expect(sent[0]!.message).not.toContain('without');
    expect(linkFailures).toEqual([]);
    expect(sectionsUnavailable).toEqual([]);
  });

  it('names the sections the page is without, and how to make the whole report, when a query failed', async () => {
    s3.on(PutObjectCommand).resolves({});
    const missing = ['most engaged recipients (the database stopped the query at its statement timeout)'];
    const warn = jest.spyOn(Logger.prototype, 'warn');
    const { sent, linkFailures, sectionsUnavailable } = await dailySummary(
      links({ render: async () => ({ html: PAGE, unavailableSections: missing }) }),
    );
    expect(warn).toHaveBeenCalledWith('daily report page is without some sections', { unavailableSections: missing });
    expect(sectionsUnavailable).toEqual([1]);
    warn.mockRestore();

    const message = sent[0]!.message;
    expect(message).toContain('https://');
    expect(message).toContain(
      'The page is without most engaged recipients (the database stopped the query at its statement timeout).',
    );
    expect(message).toContain(
      "The whole report: DATABASE_URL=<your database's connection string> npm run report -- --from 2026-03-01T00:00:00.000Z --to 2026-03-02T00:00:00.000Z --html report.html",
    );
    // The link worked: not a link failure.
    expect(linkFailures).toEqual([]);
  });

  it('still sends the summary, saying the report is missing, and counts it, when the upload fails', async () => {
    s3.on(PutObjectCommand).rejects(new Error('AccessDenied'));
    const { result, sent, linkFailures, summaryFailures } = await dailySummary(links());

    expect(result).toEqual({ summarySent: true });
    expect(sent).toHaveLength(1);
    expect(sent[0]!.message).toContain('950');
    expect(sent[0]!.message).toContain('could not be made today');
    expect(sent[0]!.message).toContain(
      'npm run report -- --from 2026-03-01T00:00:00.000Z --to 2026-03-02T00:00:00.000Z --html report.html',
    );
    expect(sent[0]!.message).not.toContain('https://');
    expect(linkFailures).toEqual([1]);
    expect(summaryFailures).toEqual([]);
  });

  it('still sends the summary when rendering fails, uploading nothing', async () => {
    const failing = links({
      render: async () => {
        throw new Error('read_heatmap failed: timeout');
      },
    });
    const { sent, linkFailures } = await dailySummary(failing);
    expect(sent[0]!.message).toContain('could not be made today');
    expect(linkFailures).toEqual([1]);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });
  it('sends the summary without the link when the link takes longer than its deadline', async () => {
    const never: DailyReportLinks = { publish: () => new Promise(() => undefined) };
    const { sent, linkFailures } = await dailySummary(never, 10);
    expect(sent[0]!.message).toContain('could not be made today');
    expect(linkFailures).toEqual([1]);
  });
});

describe('renderDailyReport', () => {
  const totals = {
    campaign: null,
    total_messages: 2,
    sent: 2,
    delivered: 2,
    read: 1,
    failed: 0,
    delivery_rate_percent: 100,
    read_rate_percent: 50,
    avg_delivery_seconds: 3,
    avg_read_delay_minutes: 4,
  };
  const rows: Record<string, Record<string, unknown>[]> = {
    delivery_report: [totals],
    top_recipients: [
      { phone_number: '+919876543210', messages: 2, read: 1, read_rate_percent: 50, avg_read_delay_minutes: 4 },
    ],
    resend_list: [
      {
        message_id: 'w1',
        phone_number: '+919876543211',
        campaign: null,
        sent_at: '2026-03-01T10:00:00Z',
        minutes_waiting: 30,
      },
    ],
    delay_percentiles: [{ delivery_p50_seconds: 3, delivery_p90_seconds: 5, read_p50_minutes: 4, read_p90_minutes: 4 }],
  };
  const calls: { fn: string; args: Record<string, unknown> }[] = [];
  const call: ReportFunctionCall = async (fn, args) => {
    calls.push({ fn, args });
    return rows[fn] ?? [];
  };
  /** PostgREST's answer when the role's statement_timeout stops a call: SQLSTATE 57014 (SupabaseTrackerStore). */
  const timeout = (fn: string) =>
    Object.assign(new Error(`${fn} failed: canceling statement due to statement timeout`), { code: '57014' });

  it("renders the summary's UTC day with every phone number masked", async () => {
    const { html, unavailableSections: missing } = await renderDailyReport(call, DAY, {
      undeliveredAfterMinutes: 15,
      generatedAt: NOW,
    });

    expect(missing).toEqual([]);
    expect(html).not.toContain('Incomplete');

    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('2026-03-01 00:00 to 2026-03-02 00:00 UTC');
    expect(html).toContain('+91********10');
    expect(html).not.toMatch(/9876543210|9876543211/);
    expect(calls.find((c) => c.fn === 'read_heatmap')?.args).toMatchObject({ time_zone: 'UTC' });
    expect(calls.find((c) => c.fn === 'resend_list')?.args).toMatchObject({ older_than_minutes: 15 });
    // The lists' page size goes into the functions (0029), which stop after it, not only onto the call's rows.
    expect(calls.find((c) => c.fn === 'resend_list')?.args).toMatchObject({ max_rows: 1000 });
    expect(calls.find((c) => c.fn === 'remind_list')?.args).toMatchObject({ max_rows: 1000 });
  });

  it('leaves out a section whose query timed out, says so on the page, and keeps every other section', async () => {
    const slow: ReportFunctionCall = async (fn, args, limit) => {
      if (fn === 'top_recipients') throw timeout(fn);
      return call(fn, args, limit);
    };
    const { html, unavailableSections: missing } = await renderDailyReport(slow, DAY, { generatedAt: NOW });

    expect(missing).toEqual(['most engaged recipients (the database stopped the query at its statement timeout)']);
    expect(html).toContain('<strong>Incomplete:</strong> this report is without most engaged recipients');
    expect(html).toMatch(
      /<h2 id="h-top">Most engaged recipients<\/h2><p>Not in this report: the database stopped the query/,
    );
    // The rest is whole: the follow-ups still count the re-send list, the headline its figures.
    expect(html).toContain('<strong>1</strong> not delivered after');
    expect(html).toContain('<div class="value">2</div>');
  });

  it('never shows a failed section as empty: failures and follow-ups say they are missing, not "none"', async () => {
    const failing: ReportFunctionCall = async (fn, args, limit) => {
      if (fn === 'failures_by_error' || fn === 'resend_list') throw new Error(`${fn} failed: connection reset`);
      return call(fn, args, limit);
    };
    const { html, unavailableSections: missing } = await renderDailyReport(failing, DAY, { generatedAt: NOW });

    expect(missing).toEqual([
      'failures by error code (failures_by_error failed: connection reset)',
      'the re-send list (resend_list failed: connection reset)',
    ]);
    expect(html).not.toContain('No failures in the period');
    expect(html).not.toContain('not delivered after');
    expect(html).toContain('<li>The re-send list: not in this report (resend_list failed: connection reset)');
    // The other list still counts: one failed list does not hide it.
    expect(html).toContain('delivered but unread after 24 hours');
  });

  it('gives each call its own deadline: one that hangs costs its section, not the page', async () => {
    const stalled: ReportFunctionCall = (fn, args, limit) =>
      fn === 'top_recipients' ? new Promise(() => undefined) : call(fn, args, limit);
    const { html, unavailableSections: missing } = await renderDailyReport(stalled, DAY, { callDeadlineMs: 50 });
    expect(missing).toEqual(['most engaged recipients (top_recipients took longer than 0.05 s)']);
    expect(html).toContain('<div class="value">2</div>');
  });

  it('fails, as before, when the overall figures cannot be had: a page without them says nothing', async () => {
    const down: ReportFunctionCall = async (fn) => {
      throw Object.assign(new Error(`${fn} failed: fetch failed`), { code: 'ECONNREFUSED' });
    };
    await expect(renderDailyReport(down, DAY)).rejects.toThrow('delivery_report failed: fetch failed');
  });

  it('masks phone-like digits a failure quotes', async () => {
    const quoting: ReportFunctionCall = async (fn, args, limit) => {
      if (fn === 'remind_list') throw new Error('remind_list failed: bad row for +919876543210');
      return call(fn, args, limit);
    };
    const { html, unavailableSections: missing } = await renderDailyReport(quoting, DAY);
    expect(missing).toEqual(['the reminder list (remind_list failed: bad row for +91********10)']);
    expect(html).not.toContain('9876543210');
  });

  describe('each section the page draws, when its query fails', () => {
    /** Which call feeds each section (two are delivery_report and two delivery_report_by, told apart by arguments). */
    const FEEDS: Record<OptionalSection, (fn: string, args: Record<string, unknown>) => boolean> = {
      by_campaign: (fn, a) => fn === 'delivery_report' && a.by_campaign === true,
      previous: (fn, a) => fn === 'delivery_report' && a.period_start !== DAY.from.toISOString(),
      hourly: (fn) => fn === 'hourly_volume',
      best_hours: (fn) => fn === 'best_send_hours',
      top_recipients: (fn) => fn === 'top_recipients',
      failures: (fn) => fn === 'failures_by_error',
      resend: (fn) => fn === 'resend_list',
      remind: (fn) => fn === 'remind_list',
      heatmap: (fn) => fn === 'read_heatmap',
      delays: (fn) => fn === 'delay_distribution',
      percentiles: (fn) => fn === 'delay_percentiles',
      resend_left_out: (fn) => fn === 'resend_left_out',
      pricing: (fn) => fn === 'pricing_breakdown',
      by_sender: (fn, a) => fn === 'delivery_report_by' && a.by_campaign === false,
      by_sender_campaign: (fn, a) => fn === 'delivery_report_by' && a.by_campaign === true,
      numbers: (fn) => fn === 'number_health',
      templates: (fn) => fn === 'templates_needing_attention',
    };
    /** Where the page says so: the title of the section shown as missing in its place, or the headline's words. */
    const SAID: Record<string, string> = {
      by_campaign: '<h2 id="h-funnel">Funnel per campaign</h2><p>Not in this report',
      hourly: '<h2 id="h-hourly">Hourly volume (UTC)</h2><p>Not in this report',
      heatmap: '<h2 id="h-heatmap">Read rate by weekday and hour (UTC)</h2><p>Not in this report',
      delays: '<h2 id="h-delays">How long deliveries and reads took</h2><p>Not in this report',
      percentiles: '<div class="value">n/a</div><span class="change">not available</span>',
      failures: '<h2 id="h-failures">Failures by error code</h2><p>Not in this report',
      pricing: '<h2 id="h-pricing">Messages by pricing category</h2><p>Not in this report',
      numbers: '<h2 id="h-account">Numbers and templates</h2><p>Not in this report',
      templates: '<h2 id="h-account">Numbers and templates</h2><p>Not in this report',
      resend: '<li>The re-send list: not in this report (statement timeout)',
      remind: '<li>The reminder list: not in this report (statement timeout)</li>',
      resend_left_out: '<br>The failures left out of the re-send list: not in this report (statement timeout)</li>',
      top_recipients: '<h2 id="h-top">Most engaged recipients</h2><p>Not in this report',
      previous: 'previous period not available',
    };
    const failing =
      (section: OptionalSection, reason = 'statement timeout'): ReportFunctionCall =>
      async (fn, args, limit) => {
        if (FEEDS[section](fn, args)) throw new Error(reason);
        return call(fn, args, limit);
      };

    it('covers every section the page draws', () => {
      expect(Object.keys(SAID).sort()).toEqual([...SECTIONS_ON_THE_PAGE].sort());
    });

    it.each(SECTIONS_ON_THE_PAGE.map((s) => [s]))(
      '%s: named at the top and in the summary, and marked in its place',
      async (section) => {
        const { html, unavailableSections } = await renderDailyReport(failing(section), DAY);
        expect(unavailableSections).toEqual([`${SECTION_LABELS[section]} (statement timeout)`]);
        expect(html).toContain(`<strong>Incomplete:</strong> this report is without ${SECTION_LABELS[section]}`);
        expect(html).toContain(SAID[section]);
      },
    );

    it('the sections only the text report shows (best hours, per sender) do not make the page incomplete', async () => {
      for (const section of OPTIONAL_SECTIONS.filter((s) => !SECTIONS_ON_THE_PAGE.includes(s))) {
        const { html, unavailableSections } = await renderDailyReport(failing(section), DAY);
        expect({ section, unavailableSections }).toEqual({ section, unavailableSections: [] });
        expect(html).not.toContain('Incomplete');
      }
    });

    it('says "not compared" in the header when the previous period is missing', async () => {
      const { html } = await renderDailyReport(failing('previous'), DAY);
      expect(html).toContain('UTC; not compared with the 1 day(s) before.');
      expect(html).not.toContain('vs previous period');
    });

    it('lists missing sections in the page order whatever order their calls failed in, and escapes the reasons', async () => {
      // remind_list fails at once; failures_by_error only after every other call has answered.
      let release: () => void = () => undefined;
      const late = new Promise<void>((resolve) => (release = resolve));
      let pending = 0;
      const racing: ReportFunctionCall = async (fn, args, limit) => {
        if (fn === 'remind_list') throw new Error('<b>first</b>');
        if (fn === 'failures_by_error') {
          await late;
          throw new Error('second');
        }
        pending++;
        try {
          return await call(fn, args, limit);
        } finally {
          if (--pending === 0) setImmediate(release);
        }
      };
      const { html, unavailableSections } = await renderDailyReport(racing, DAY);
      expect(unavailableSections).toEqual(['failures by error code (second)', 'the reminder list (<b>first</b>)']);
      expect(html).toContain('&lt;b&gt;first&lt;/b&gt;');
      expect(html).not.toContain('<b>first</b>');
    });
  });
});
