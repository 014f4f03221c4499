import { withDeadline } from '../shared/deadline';
import type { ReportFunctionCall } from '../store/report-functions';
import { buildReportWith, describeUnavailable, maskReportPhones } from './report-data';
import { renderReportHtml, unavailableOnThePage } from './report-html';

/**
 * Each call's own deadline, within the 30 s the sweeper gives the whole page (reportLinkTimeoutMs): supabase-js waits
 * for an answer as long as the connection stays open, so a call that hangs (a stalled connection) would cost the whole
 * page; with it, it costs its section, and the page still has time to render and upload.
 */
export const DAILY_REPORT_CALL_DEADLINE_MS = 20_000;

/** The day's page, and the sections it shows but is without, and why (their queries failed; the page says so too). */
export interface DailyReportPage {
  html: string;
  /** `most engaged recipients (the database stopped the query at its statement timeout)`; empty when whole. */
  unavailableSections: string[];
}

/**
 * The daily summary's HTML report: the page `npm run report -- --html` writes, for the summary's period (a UTC day)
 * with its heat map in UTC like the summary, every phone number masked (the page leaves the account as a link).
 * A section whose query fails (Supabase's API stops each call at its statement timeout) is left out and marked, so
 * that one slow query does not cost the whole page. Loaded by the sweeper only when it sends the summary: this
 * module brings ECharts.
 */
export async function renderDailyReport(
  call: ReportFunctionCall,
  period: { from: Date; to: Date },
  options: { undeliveredAfterMinutes?: number; generatedAt?: Date; callDeadlineMs?: number } = {},
): Promise<DailyReportPage> {
  const deadline = options.callDeadlineMs ?? DAILY_REPORT_CALL_DEADLINE_MS;
  const bounded: ReportFunctionCall = (fn, args, limit) =>
    withDeadline(
      deadline,
      () => call(fn, args, limit),
      () => new Error(`${fn} took longer than ${deadline / 1000} s`),
    );
  const report = await buildReportWith(bounded, {
    from: period.from,
    to: period.to,
    timeZone: 'UTC',
    undeliveredAfterMinutes: options.undeliveredAfterMinutes,
    tolerateFailedSections: true,
  });
  return {
    html: renderReportHtml(maskReportPhones(report), options.generatedAt),
    unavailableSections: describeUnavailable({ unavailable: unavailableOnThePage(report) }),
  };
}
