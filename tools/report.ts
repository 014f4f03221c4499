/**
 * `npm run report`: delivery figures for a period, overall and per campaign, as a readable table, JSON or CSV
 * follow-up lists. See docs/operate.md.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseRateCard } from '../lambdas/domain/rate-card';
import { buildCostReport, formatCostReport } from '../lambdas/report/cost-report';
import { followUpCsv, formatReport, leftOutSummary, reportJson } from '../lambdas/report/report-format';
import { renderReportHtml } from '../lambdas/report/report-html';
import { parseCli } from '../lambdas/shared/cli';
import { loadDeployedConfig } from './deployed-config';
import { openReportSource } from './open-report-source';
import { REPORT_CLI, reportArgs } from './report-args';

const args = parseCli(REPORT_CLI, process.argv.slice(2), ({ values }) => reportArgs(values));

/** The rate card of --rates, read before any database is opened, so a bad file fails fast and says why. */
function readRateCard(file: string | undefined) {
  if (file === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(
      `--rates ${file}: ${code === 'ENOENT' ? 'no such file' : `cannot be read (${code})`}; docs/rates.sample.json is an example`,
    );
  }
  return parseRateCard(text, file);
}

async function main(): Promise<number> {
  const rateCard = readRateCard(args.ratesFile);
  const source = await openReportSource();
  try {
    if (args.showPhones && source.masksPhones) {
      process.stderr.write(
        `report: --show-phones cannot show numbers read from ${source.describe}: it masks every number it answers with. Stop it (the report then reads the embedded database) or set DATABASE_URL\n`,
      );
      return 2;
    }
    // The re-send list counts a message as undelivered after the stack's undeliveredAfterMinutes, as the alarm does.
    const { undeliveredAfterMinutes } = loadDeployedConfig();
    const report = await source.report({
      from: args.from,
      to: args.to,
      timeZone: args.timeZone,
      undeliveredAfterMinutes,
    });
    if (args.cost) {
      const cost = buildCostReport(report, rateCard);
      process.stdout.write(
        args.output === 'json'
          ? `${JSON.stringify(cost, null, 2)}\n`
          : `${formatCostReport(cost)}\n(source: ${source.describe})\n`,
      );
    } else if (args.output === 'html') {
      writeFileSync(args.htmlFile!, renderReportHtml(report));
      process.stdout.write(
        `wrote ${args.htmlFile} (${report.overall.total_messages} messages; source: ${source.describe})\n`,
      );
    } else if (args.output === 'json') process.stdout.write(`${JSON.stringify(reportJson(report), null, 2)}\n`);
    else if (args.output === 'csv') {
      process.stdout.write(followUpCsv(report, args.csvList ?? 'resend'));
      // On stderr: the CSV stays clean for a spreadsheet, and the operator still learns what it leaves out.
      const leftOut = args.csvList === 'remind' ? '' : leftOutSummary(report);
      if (leftOut) process.stderr.write(`${leftOut}\n`);
    } else
      process.stdout.write(
        `${formatReport(report, { byCampaign: args.byCampaign, bySender: args.bySender, showPhones: args.showPhones })}\n(source: ${source.describe})\n`,
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
