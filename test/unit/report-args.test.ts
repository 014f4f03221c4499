import { followUpCsv, formatReport, reportJson } from '../../lambdas/report/report-format';
import { renderReportHtml } from '../../lambdas/report/report-html';
import { parseDuration, parseReportArgs, UsageError } from '../../tools/report-args';
import { sampleReport } from '../fixtures/report';

const NOW = new Date('2024-06-02T12:00:00Z');

describe('report arguments', () => {
  it('defaults to the last 24 hours as a table', () => {
    expect(parseReportArgs([], NOW)).toEqual({
      from: new Date('2024-06-01T12:00:00Z'),
      to: NOW,
      byCampaign: false,
      bySender: false,
      output: 'table',
      csvList: undefined,
      htmlFile: undefined,
      timeZone: 'UTC',
      showPhones: false,
      cost: false,
      ratesFile: undefined,
    });
  });
  it('reads --html FILE and --time-zone, and refuses a zone that does not exist', () => {
    expect(parseReportArgs(['--html', 'r.html', '--time-zone', 'Asia/Kolkata'], NOW)).toMatchObject({
      output: 'html',
      htmlFile: 'r.html',
      timeZone: 'Asia/Kolkata',
    });
    expect(() => parseReportArgs(['--time-zone', 'Mars/Olympus'], NOW)).toThrow(/IANA time zone/);
    expect(() => parseReportArgs(['--html', 'r.html', '--json'], NOW)).toThrow(/one of --json, --csv and --html/);
  });
  it.each([
    ['90m', 5_400_000],
    ['24h', 86_400_000],
    ['7d', 604_800_000],
  ])('reads --since %s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });
  it('reads --from/--to, --by campaign, --json and --csv', () => {
    expect(
      parseReportArgs(['--from', '2024-06-01', '--to', '2024-06-02', '--by', 'campaign', '--json'], NOW),
    ).toMatchObject({
      // A date is its whole UTC day, --to included: 1 and 2 June, as npm run replay reads it.
      from: new Date('2024-06-01T00:00:00Z'),
      to: new Date('2024-06-03T00:00:00Z'),
      byCampaign: true,
      output: 'json',
    });
    expect(parseReportArgs(['--csv', 'remind'], NOW)).toMatchObject({ output: 'csv', csvList: 'remind' });
  });
  it('reads a time with its zone, and refuses one without (the host zone would decide the period)', () => {
    expect(parseReportArgs(['--from', '2024-06-01T10:00+05:30', '--to', '2024-06-01T12:00Z'], NOW)).toMatchObject({
      from: new Date('2024-06-01T04:30:00Z'),
      to: new Date('2024-06-01T12:00:00Z'),
    });
    expect(() => parseReportArgs(['--from', '2024-06-01T10:00'], NOW)).toThrow(
      '--from "2024-06-01T10:00" has no time zone: add Z for UTC or an offset such as +05:30',
    );
    // `--from "$START"` with the variable unset: an error, not the last 24 hours.
    expect(() => parseReportArgs(['--from', ''], NOW)).toThrow('--from "" expects an ISO 8601 date or time');
    expect(() => parseReportArgs(['--to='], NOW)).toThrow('--to "" expects an ISO 8601 date or time');
  });
  it('reads --by sender, and --by sender,campaign for campaigns within each sender', () => {
    expect(parseReportArgs(['--by', 'sender'], NOW)).toMatchObject({ bySender: true, byCampaign: false });
    expect(parseReportArgs(['--by', 'sender,campaign'], NOW)).toMatchObject({ bySender: true, byCampaign: true });
    expect(() => parseReportArgs(['--by', 'senders'], NOW)).toThrow(/"campaign", "sender" or "sender,campaign"/);
  });
  it('reads --cost with --rates FILE and --json', () => {
    expect(parseReportArgs(['--cost'], NOW)).toMatchObject({ cost: true, ratesFile: undefined, output: 'table' });
    expect(parseReportArgs(['--cost', '--rates', 'rates.json', '--json', '--since', '7d'], NOW)).toMatchObject({
      cost: true,
      ratesFile: 'rates.json',
      output: 'json',
      from: new Date(NOW.getTime() - 7 * 86_400_000),
    });
    expect(parseReportArgs([], NOW).cost).toBe(false);
  });
  it.each([
    [['--since', 'yesterday']],
    [['--since', '24h', '--from', '2024-06-01']],
    [['--by', 'phone']],
    [['--csv', 'all']],
    [['--from', 'soon']],
    [['--from', '2024-06-02', '--to', '2024-06-01']],
    [['--json', '--csv', 'resend']],
    [['--verbose']],
    [['--since']],
    [['--rates', 'rates.json']],
    [['--cost', '--csv', 'resend']],
    [['--cost', '--html', 'out.html']],
  ])('refuses %p with a usage error', (argv) => {
    expect(() => parseReportArgs(argv, NOW)).toThrow(UsageError);
  });
  it.each([
    [['--since', '0m'], '--since expects a duration such as 90m, 24h or 7d (up to 36500d), not "0m"'],
    [['--since', '99999999999d'], '--since expects a duration such as 90m, 24h or 7d'],
    [['--from', '2099-01-01'], '--from is after now: give --to too'],
    [['--from', '2024-06-02', '--to', '2024-06-01'], '--from must be before --to'],
  ])('refuses %p saying why', (argv, message) => {
    expect(() => parseReportArgs(argv, NOW)).toThrow(message);
  });
});

describe('report output', () => {
  const report = sampleReport();

  it('prints a readable table with masked phone numbers', () => {
    const text = formatReport(report, { byCampaign: true });
    expect(text).toContain('91.7 %');
    expect(text).toContain('diwali');
    expect(text).toContain('+91********10');
    expect(text).not.toContain('+919876543210');
  });
  it('splits the figures by sender, and by campaign within sender', () => {
    const bySender = formatReport(report, { bySender: true });
    expect(bySender).toMatch(/^\+15550783881 +1,200/m);
    expect(bySender).not.toMatch(/^diwali/m);
    expect(formatReport(report, { bySender: true, byCampaign: true })).toMatch(/^\+15550783881 \/ diwali +1,200/m);
    expect(reportJson(report)).toMatchObject({ by_sender: [{ sender: '+15550783881', total_messages: 1200 }] });
  });
  it('shows the numbers and the templates that need attention, only when Meta reported any', () => {
    expect(formatReport(report)).not.toContain('Business numbers');
    const withHealth = sampleReport({
      numbers: [
        {
          phone_number: '+15550783881',
          quality_event: 'FLAGGED',
          quality_since: '2025-05-28T17:46:34.000Z',
          messaging_limit: 'TIER_2K',
          last_event: 'DOWNGRADE',
          last_severity: 'warning',
          last_event_at: '2025-05-28T17:48:14.000Z',
        },
      ],
      templates: [
        {
          template_id: '1689556908129832',
          template: 'order_confirmation (en-US)',
          status: 'DISABLED',
          status_since: '2025-05-28T17:51:34.000Z',
          reason: null,
          quality: 'RED',
        },
      ],
    });
    const text = formatReport(withHealth);
    expect(text).toMatch(/^\+15550783881 +FLAGGED \(low quality\) +TIER_2K +DOWNGRADE \(warning\)/m);
    expect(text).toMatch(/^order_confirmation \(en-US\) +DISABLED +2025-05-28T17:51 +RED/m);
    const html = renderReportHtml(withHealth);
    expect(html).toContain('<h2 id="h-account">Numbers and templates</h2>');
    expect(html).toContain('<td>order_confirmation (en-US)</td><td>DISABLED</td>');
  });
  it('says first, in text and JSON, which sections a report is without and why', () => {
    expect(formatReport(report)).not.toContain('Incomplete');
    expect(reportJson(report)).toMatchObject({ unavailable: [] });
    const partial = sampleReport({
      top_recipients: [],
      unavailable: [{ section: 'top_recipients', reason: 'the database stopped the query at its statement timeout' }],
    });
    expect(formatReport(partial).split('\n')[2]).toBe(
      'Incomplete: this report is without most engaged recipients (the database stopped the query at its statement timeout)',
    );
    expect(reportJson(partial)).toMatchObject({ unavailable: partial.unavailable });
  });
  it('refuses to write a follow-up list as CSV when its query failed: an empty file would read as nobody to contact', () => {
    const partial = sampleReport({ resend: [], unavailable: [{ section: 'resend', reason: 'connection reset' }] });
    expect(() => followUpCsv(partial, 'resend')).toThrow('the resend list could not be read: connection reset');
    expect(followUpCsv(partial, 'remind')).toMatch(/^message_id,phone_number/);
  });
  it('puts the headline figures at the top level of the JSON', () => {
    expect(reportJson(report)).toMatchObject({
      total_messages: 1200,
      delivery_rate_percent: 91.67,
      read_rate_percent: 63.64,
      avg_delivery_seconds: 3.2,
      avg_read_delay_minutes: 21.5,
    });
  });
  it('describes the follow-up lists by the ages that decided them, in text and HTML', () => {
    expect(formatReport(report)).toContain(
      'To re-send (not delivered after 10 minutes, or failed with an error a re-send can fix): 2',
    );
    const changed = sampleReport({ resend_after_minutes: 25, remind_after_hours: 1 });
    expect(formatReport(changed)).toContain('To re-send (not delivered after 25 minutes, or failed');
    expect(formatReport(changed)).toContain('To remind (delivered, unread after 1 hour): 0');
    expect(renderReportHtml(changed)).toContain('not delivered after 25 minutes, or failed with an error');
    expect(renderReportHtml(changed)).toContain('delivered but unread after 1 hour:');
  });
  it('writes follow-up lists as CSV with quoting', () => {
    expect(followUpCsv(report, 'resend')).toBe(
      'message_id,phone_number,campaign,sent_at,minutes_waiting,failed_at,error_code,resend_when,recipient_user_id\n' +
        'wamid.1,+919876543210,"a,b",2024-06-02T11:00:00.000Z,60,,,"not delivered, no failure reported yet",\n' +
        // A recipient with a username: no phone, the user id is the address.
        'wamid.2,,"a,b",2024-06-02T11:05:00.000Z,55,,,"not delivered, no failure reported yet",IN.1648738043044942\n',
    );
  });
});
