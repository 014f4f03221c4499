/**
 * `npm run report`: delivery figures for a period, overall and per campaign, as a readable table, JSON or CSV
 * follow-up lists. See docs/operate.md.
 */
import { writeFileSync } from 'node:fs';
import { followUpCsv, formatReport, reportJson } from '../lambdas/report/report-format';
import { renderReportHtml } from '../lambdas/report/report-html';
import { parseCli } from '../lambdas/shared/cli';
import { loadDeployedConfig } from './deployed-config';
import { openReportSource } from './open-report-source';
import { REPORT_CLI, reportArgs } from './report-args';

const args = parseCli(REPORT_CLI, process.argv.slice(2), ({ values }) => reportArgs(values));

async function main(): Promise<number> {
  const source = await openReportSource();
  try {
    // The re-send list counts a message as undelivered after the stack's undeliveredAfterMinutes, as the alarm does.
    const { undeliveredAfterMinutes } = loadDeployedConfig();
    const report = await source.report({
      from: args.from,
      to: args.to,
      timeZone: args.timeZone,
      undeliveredAfterMinutes,
    });
    if (args.output === 'html') {
      writeFileSync(args.htmlFile!, renderReportHtml(report));
      process.stdout.write(
        `wrote ${args.htmlFile} (${report.overall.total_messages} messages; source: ${source.describe})\n`,
      );
    } else if (args.output === 'json') process.stdout.write(`${JSON.stringify(reportJson(report), null, 2)}\n`);
    else if (args.output === 'csv') process.stdout.write(followUpCsv(report, args.csvList ?? 'resend'));
    else
      process.stdout.write(
        `${formatReport(report, { byCampaign: args.byCampaign, showPhones: args.showPhones })}\n(source: ${source.describe})\n`,
      );
    return 0;
  } finally {
    await source.close();
  }
}

main().then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    process.stderr.write(`report failed: ${(error as Error).message}\n`);
    process.exitCode = 1;
  },
);
