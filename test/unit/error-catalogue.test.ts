import { formatFailureSpike, nextStep } from '../../lambdas/domain/alert-rules';
import {
  ERROR_SOURCES,
  NO_RESEND_CODES,
  remedy,
  resendChance,
  WHATSAPP_ERRORS,
  whatsappError,
} from '../../lambdas/domain/whatsapp-errors';
import { formatDailySummary } from '../../lambdas/report/daily-summary';
import { followUpCsv, formatReport, leftOutSummary, reportJson } from '../../lambdas/report/report-format';
import { renderReportHtml } from '../../lambdas/report/report-html';
import { sampleReport } from '../fixtures/report';

describe('the WhatsApp error catalogue', () => {
  it('has one entry per code, each with a title, meaning, action, re-send answer and a known source', () => {
    const codes = WHATSAPP_ERRORS.map((e) => e.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const entry of WHATSAPP_ERRORS) {
      expect([entry.title, entry.meaning, entry.action, entry.when].every((t) => t.length > 3)).toBe(true);
      expect(entry.sources.length).toBeGreaterThan(0);
      for (const source of entry.sources) expect(ERROR_SOURCES[source]).toMatch(/^https:\/\//);
    }
  });

  it('answers the codes users ask about as they were asked', () => {
    expect(whatsappError(131026)).toMatchObject({ resend: 'never' });
    expect(remedy(131026)).toMatch(/Do not resend.*[Mm]ark the contact/);
    expect(whatsappError(131047)?.action).toMatch(/template/);
    expect(whatsappError(131049)).toMatchObject({ resend: 'later' });
    expect(remedy(131049)).toMatch(/not retry now.*later/i);
    expect(whatsappError(130472)?.meaning).toMatch(/experiment/);
    expect(whatsappError(131021)).toMatchObject({ title: 'Recipient cannot be sender', resend: 'never' });
    for (const code of [131053, 131052, 470, 131051, 368, 131031]) expect(whatsappError(code)).toBeDefined();
    expect(whatsappError(368)?.resend).toBe('after-fix');
  });

  it('leaves out of the re-send list exactly the codes marked never', () => {
    expect([...NO_RESEND_CODES].sort()).toEqual(
      WHATSAPP_ERRORS.filter((e) => e.resend === 'never')
        .map((e) => e.code)
        .sort(),
    );
    expect(NO_RESEND_CODES).toEqual(expect.arrayContaining([131026, 131021, 131050, 130472]));
    expect(NO_RESEND_CODES).not.toContain(131049);
  });

  it("points an unknown code to Meta's page, and gives it the benefit of the doubt", () => {
    expect(remedy(999999)).toContain(ERROR_SOURCES.meta);
    expect(resendChance(999999)).toBe('unknown');
    expect(remedy(null)).toMatch(/No error code/);
  });

  it('is what the failure-spike notification says to do', () => {
    expect(nextStep(131049)).toBe(remedy(131049));
    const spike = formatFailureSpike(
      { failed: 100, cohort: 500, failureRatePercent: 20, errorCode: 131026, errorTitle: 'x', errorSharePercent: 90 },
      'https://example.org/runbook',
    );
    expect(spike.message).toContain(`What to do: ${remedy(131026)}`);
  });
});

describe('failures and the re-send list in every output', () => {
  const report = sampleReport({
    failures: [
      { error_code: 131026, error_title: 'Message Undeliverable', messages: 40, share_percent: 80 },
      { error_code: 131049, error_title: 'ecosystem engagement', messages: 9, share_percent: 18 },
      { error_code: 424242, error_title: null, messages: 1, share_percent: 2 },
    ],
    resend: [
      {
        message_id: 'wamid.F',
        phone_number: '+919876543210',
        campaign: 'diwali',
        sent_at: '2024-06-02T10:00:00.000Z',
        minutes_waiting: 120,
        failed_at: '2024-06-02T10:00:05.000Z',
        error_code: 131049,
      },
    ],
    resend_left_out: [{ error_code: 131026, error_title: 'Message Undeliverable', messages: 40 }],
  });

  it('text: what to do for each code, when a re-send can succeed, and what the list left out', () => {
    const text = formatReport(report);
    expect(text).toContain(`131026: ${remedy(131026)}`);
    expect(text).toContain(`424242: ${remedy(424242)}`);
    expect(text).toMatch(/131049 +ecosystem engagement +9 +18\.0 % +later, not now/);
    expect(text).toContain('Left out: 40 failed messages a re-send cannot fix; 131026 Message Undeliverable: 40');
  });

  it('JSON: the same remedy and re-send answer per failure, and the left-out counts with why', () => {
    const json = reportJson(report) as {
      failures: Record<string, unknown>[];
      resend_left_out: Record<string, unknown>[];
    };
    expect(json.failures[0]).toMatchObject({
      error_code: 131026,
      what_to_do: remedy(131026),
      resend: 'never',
      resend_when: whatsappError(131026)?.when,
    });
    expect(json.failures[2]).toMatchObject({ resend: 'unknown' });
    expect(json.resend_left_out).toEqual([
      { error_code: 131026, error_title: 'Message Undeliverable', messages: 40, why: whatsappError(131026)?.when },
    ]);
  });

  it('CSV: each row says when its re-send can succeed', () => {
    const [header, row] = followUpCsv(report, 'resend').trim().split('\n');
    expect(header).toBe('message_id,phone_number,campaign,sent_at,minutes_waiting,failed_at,error_code,resend_when');
    expect(row).toBe(
      `wamid.F,+919876543210,diwali,2024-06-02T10:00:00.000Z,120,2024-06-02T10:00:05.000Z,131049,"${whatsappError(131049)?.when}"`,
    );
  });

  it('HTML: the failures table has the remedy and the re-send answer; the follow-ups say what was left out', () => {
    const html = renderReportHtml(report);
    expect(html).toContain(`<td>${remedy(131049)}</td>`);
    expect(html).toContain('<th scope="col">re-send</th>');
    expect(html).toContain(leftOutSummary(report));
  });

  it('says nothing was left out when nothing was', () => {
    expect(leftOutSummary(sampleReport())).toBe('');
    expect(formatReport(sampleReport())).not.toContain('Left out');
  });
});

describe('the daily summary', () => {
  const summary = {
    window_start: '2024-06-01T00:00:00.000Z',
    window_end: '2024-06-02T00:00:00.000Z',
    total_messages: 1000,
    sent: 1000,
    delivered: 900,
    read: 500,
    failed: 60,
    delivery_rate_percent: 90,
    read_rate_percent: 55.56,
    avg_delivery_seconds: 3.1,
  };

  it('names the top failure code and its remedy', () => {
    const { message } = formatDailySummary('2024-06-01', {
      ...summary,
      top_failure: { error_code: 131049, error_title: 'ecosystem engagement', messages: 45 },
    });
    expect(message).toContain('top failure  131049 ecosystem engagement (45 messages)');
    expect(message).toContain(`what to do   ${remedy(131049)}`);
  });

  it('says nothing of failures on a day without any, or from a store that does not look them up', () => {
    expect(formatDailySummary('2024-06-01', { ...summary, top_failure: null }).message).not.toContain('top failure');
    expect(formatDailySummary('2024-06-01', summary).message).not.toContain('top failure');
  });
});
