import type { ReportFunctionCall } from '../store/report-functions';
import { buildReportWith, maskReportPhones } from './report-data';
import { renderReportHtml } from './report-html';

/**
 * The daily summary's HTML report: the page `npm run report -- --html` writes, for the summary's period (a UTC day)
 * with its heat map in UTC like the summary, every phone number masked (the page leaves the account as a link).
 * Loaded by the sweeper only when it sends the summary: this module brings ECharts.
 */
export async function renderDailyReport(
  call: ReportFunctionCall,
  period: { from: Date; to: Date },
  options: { undeliveredAfterMinutes?: number; generatedAt?: Date } = {},
): Promise<string> {
  const report = await buildReportWith(call, {
    from: period.from,
    to: period.to,
    timeZone: 'UTC',
    undeliveredAfterMinutes: options.undeliveredAfterMinutes,
  });
  return renderReportHtml(maskReportPhones(report), options.generatedAt);
}
