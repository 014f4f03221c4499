import { DAY_MS, isTimeZone } from '../lambdas/domain/timestamps';
import {
  type Cli,
  type CliOptions,
  checkPeriodOrder,
  parseCliArgs,
  periodOptions,
  UsageError,
} from '../lambdas/shared/cli';

export { UsageError };

/** `npm run report`'s command line (lambdas/shared/cli.ts parses it; parseReportArgs checks what the values mean). */
export const REPORT_CLI = {
  name: 'report',
  usage:
    'npm run report -- [--since 24h | --from ISO --to ISO] [--by campaign|sender|sender,campaign] [--json | --csv resend|remind | --html FILE] [--time-zone TZ] [--show-phones]\n       npm run report -- --cost [--rates FILE] [--since 24h | --from ISO --to ISO] [--json]',
  options: {
    since: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    by: { type: 'string' },
    csv: { type: 'string' },
    html: { type: 'string' },
    'time-zone': { type: 'string', default: 'UTC' },
    json: { type: 'boolean', default: false },
    cost: { type: 'boolean', default: false },
    rates: { type: 'string' },
    'show-phones': { type: 'boolean', default: false },
  },
} as const satisfies Cli<CliOptions>;

export interface ReportArgs {
  from: Date;
  to: Date;
  byCampaign: boolean;
  /** `--by sender`: one row per sender (number, WABA or AiSensy project); with campaign, per campaign within it. */
  bySender: boolean;
  output: 'table' | 'json' | 'csv' | 'html';
  csvList?: 'resend' | 'remind';
  /** Where --html writes the page. */
  htmlFile?: string;
  /** IANA time zone of the report's weekday x hour heat map. @default UTC */
  timeZone: string;
  showPhones: boolean;
  /** --cost: messages by pricing category and the estimated spend instead of the delivery report. */
  cost: boolean;
  /** --rates: the rate card (JSON) the spend is estimated with. */
  ratesFile?: string;
}

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: DAY_MS };

/** `90m`, `24h`, `7d` -> milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+)([mhd])$/.exec(text.trim());
  const ms = match ? Number(match[1]) * UNITS[match[2]!]! : Number.NaN;
  // Up to about 100 years: a longer one would be a time before 1870, which a Date cannot carry around.
  if (!(ms > 0 && ms <= 36_500 * UNITS.d!))
    throw new UsageError(`--since expects a duration such as 90m, 24h or 7d (up to 36500d), not "${text}"`);
  return ms;
}

type ReportValues = ReturnType<typeof parseCliArgs<typeof REPORT_CLI.options>>['values'];

export function parseReportArgs(argv: readonly string[], now = new Date()): ReportArgs {
  return reportArgs(parseCliArgs(argv, REPORT_CLI.options).values, now);
}

/** What the parsed options mean, or a UsageError. */
export function reportArgs(values: ReportValues, now = new Date()): ReportArgs {
  const {
    since,
    from: fromText,
    to: toText,
    by,
    csv,
    html: htmlFile,
    'time-zone': timeZone,
    json,
    'show-phones': showPhones,
    cost,
    rates: ratesFile,
  } = values;
  if (since !== undefined && (fromText !== undefined || toText !== undefined))
    throw new UsageError('use --since or --from/--to, not both');
  if (by !== undefined && !['campaign', 'sender', 'sender,campaign', 'campaign,sender'].includes(by))
    throw new UsageError('--by accepts "campaign", "sender" or "sender,campaign"');
  if (csv !== undefined && csv !== 'resend' && csv !== 'remind')
    throw new UsageError('--csv accepts "resend" or "remind"');
  if ([csv, json || undefined, htmlFile].filter((o) => o !== undefined).length > 1)
    throw new UsageError('use one of --json, --csv and --html');
  if (ratesFile !== undefined && !cost) throw new UsageError('--rates goes with --cost');
  if (cost && (csv !== undefined || htmlFile !== undefined || by !== undefined))
    throw new UsageError('--cost shows cost by campaign already: use it alone, or with --rates and --json');
  if (!isTimeZone(timeZone))
    throw new UsageError(`--time-zone expects an IANA time zone such as Asia/Kolkata, not "${timeZone}"`);

  const period = periodOptions({ from: fromText, to: toText });
  const to = period.to ?? now;
  const from = period.from ?? new Date(to.getTime() - parseDuration(since ?? '24h'));
  if (toText === undefined && from >= to) throw new UsageError('--from is after now: give --to too');
  checkPeriodOrder(from, to);
  const output = htmlFile ? 'html' : csv ? 'csv' : json ? 'json' : 'table';
  return {
    from,
    to,
    byCampaign: by?.includes('campaign') ?? false,
    bySender: by?.includes('sender') ?? false,
    output,
    csvList: csv as ReportArgs['csvList'],
    htmlFile,
    timeZone,
    showPhones,
    cost,
    ratesFile,
  };
}
