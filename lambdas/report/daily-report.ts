import type { ReportFunctionCall } from '../store/report-functions';
import { buildReportWith, describeUnavailable, maskReportPhones } from './report-data';
import { renderReportHtml, unavailableOnThePage } from './report-html';

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
  options: { undeliveredAfterMinutes?: number; generatedAt?: Date } = {},
): Promise<DailyReportPage> {
  const report = await buildReportWith(call, {
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
