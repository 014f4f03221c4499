import { wholeReportCommand } from '../report/daily-summary';
/** The day a summary is about (previousUtcDay, lambdas/report/daily-summary.ts). */
export interface ReportDay {
  from: Date;
  to: Date;
  /** `2026-03-01` */
  label: string;
}

/** Where the day's HTML report can be read, and until when. */
export interface ReportLink {
  url: string;
  bucket: string;
  key: string;
  /** The earlier of the URL's own expiry and that of the credentials that signed it. */
  expiresAt: Date;
  /** Whether expiresAt is the signing credentials' expiry (sooner than the configured lifetime). */
  cutShortByCredentials: boolean;
  /** The sections the page is without and why (their queries failed); empty when it is whole. */
  unavailableSections: string[];
}

/** Renders, stores and shares the day's report; the sweeper puts the link in the summary. */
export interface DailyReportLinks {
  publish(day: ReportDay): Promise<ReportLink>;
}

/** `reports/<stage>/<day>.html`: one object per stage and day, under the prefix the sweeper may write. */
export const reportKey = (stage: string, label: string) => `reports/${stage}/${label}.html`;

const makeItYourself = (day: ReportDay) => wholeReportCommand(day.from.toISOString(), day.to.toISOString());

const utc = (date: Date) => `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/** The lines the summary ends with: the link and until when it works, or that there is none today and why. */
export function reportLinkLines(link: ReportLink | { failed: true }, day: ReportDay): string[] {
  if ('failed' in link) {
    return [
      'The full report (charts, failures, follow-ups) could not be made today: the sweeper logged why.',
      `Make it yourself: ${makeItYourself(day)}`,
    ];
  }
  return [
    'Full report (charts, failures, follow-ups; phone numbers masked):',
    link.url,
    `The link works until ${utc(link.expiresAt)}${
      link.cutShortByCredentials ? " (when the sweeper's AWS credentials that signed it expire)" : ''
    }. Later: aws s3 presign s3://${link.bucket}/${link.key}`,
    ...(link.unavailableSections.length
      ? [`The page is without ${link.unavailableSections.join('; ')}.`, `The whole report: ${makeItYourself(day)}`]
      : []),
  ];
}
