import * as z from 'zod';
import { DEFAULT_COHORTS } from '../domain/alert-settings';
import { maskPhone } from '../domain/phone';
import { maskRecipient, maskUserId } from '../domain/user-id';
import { NO_RESEND_CODES } from '../domain/whatsapp-errors';
import { safeError } from '../shared/log-safe';
import { sqlCount as count, sqlFigure as figure, sqlTime as time } from '../shared/sql-values';
import { DeliveryTotals } from '../store/health-store';
import { type ReportFunctionCall, sqlReportFunctionCall } from '../store/report-functions';

/**
 * The report: what users of the original design asked their database, for one period. Built from the SQL
 * functions of supabase/migrations/0004 by whichever way reaches the database (see report-source.ts).
 */

/** One row of delivery_report(): the totals, the campaign it is for (null overall) and the read delay. */
export const Figures = DeliveryTotals.extend({
  campaign: z.string().nullable(),
  avg_read_delay_minutes: figure,
});
export type Figures = z.infer<typeof Figures>;

/**
 * The sections a report can be without (every one but the overall figures), each one call of one SQL function: the
 * daily page shows the others when one fails (ReportOptions.tolerateFailedSections).
 */
export const OPTIONAL_SECTIONS = [
  'by_campaign',
  'hourly',
  'best_hours',
  'top_recipients',
  'failures',
  'resend',
  'remind',
  'previous',
  'heatmap',
  'delays',
  'percentiles',
  'resend_left_out',
  'pricing',
  'by_sender',
  'by_sender_campaign',
  'numbers',
  'templates',
] as const;
export type OptionalSection = (typeof OPTIONAL_SECTIONS)[number];

/** What each optional section is, for a reader told that it is missing. */
export const SECTION_LABELS: Record<OptionalSection, string> = {
  by_campaign: 'figures per campaign',
  hourly: 'hourly volume',
  best_hours: 'best hours to send',
  top_recipients: 'most engaged recipients',
  failures: 'failures by error code',
  resend: 'the re-send list',
  remind: 'the reminder list',
  previous: 'the previous period (for the changes)',
  heatmap: 'read rate by weekday and hour',
  delays: 'delivery and read delays',
  percentiles: 'delay percentiles',
  resend_left_out: 'failures left out of the re-send list',
  pricing: 'messages by pricing category',
  by_sender: 'figures per sender',
  by_sender_campaign: 'figures per sender and campaign',
  numbers: 'business numbers',
  templates: 'templates needing attention',
};

/** `most engaged recipients (the database stopped the query at its statement timeout)`, one per missing section. */
export function describeUnavailable(report: Pick<Report, 'unavailable'>): string[] {
  return report.unavailable.map((u) => `${SECTION_LABELS[u.section]} (${u.reason})`);
}

export const Report = z.object({
  from: time,
  to: time,
  overall: Figures,
  by_campaign: z.array(Figures),
  hourly: z.array(z.object({ hour: time, sent: count, delivered: count, read: count, failed: count })),
  best_hours: z.array(z.object({ hour_of_day: count, delivered: count, read: count, read_rate_percent: figure })),
  top_recipients: z.array(
    z.object({
      phone_number: z.string(),
      messages: count,
      read: count,
      read_rate_percent: figure,
      avg_read_delay_minutes: figure,
    }),
  ),
  failures: z.array(
    z.object({
      error_code: z.union([z.null(), z.coerce.number()]),
      error_title: z.string().nullable(),
      messages: count,
      share_percent: figure,
    }),
  ),
  /** Not delivered: still waiting, or failed with an error a re-send can fix (error_code says which). */
  resend: z.array(
    z.object({
      message_id: z.string(),
      phone_number: z.string().nullable(),
      campaign: z.string().nullable(),
      sent_at: time.nullable(),
      minutes_waiting: figure,
      failed_at: time.nullable().default(null),
      error_code: z.union([z.null(), z.coerce.number()]).default(null),
      /** The WhatsApp user id: the only address of a recipient whose phone no webhook gave. */
      recipient_user_id: z.string().nullable().default(null),
    }),
  ),
  /** Failures left out of the re-send list because a re-send cannot succeed (the error catalogue's `never`). */
  resend_left_out: z
    .array(z.object({ error_code: z.coerce.number(), error_title: z.string().nullable(), messages: count }))
    .default([]),
  remind: z.array(
    z.object({
      message_id: z.string(),
      phone_number: z.string().nullable(),
      campaign: z.string().nullable(),
      delivered_at: time,
      hours_unread: figure,
      recipient_user_id: z.string().nullable().default(null),
    }),
  ),
  /** The ages that decided the two lists (ReportOptions), for the texts that describe them. */
  resend_after_minutes: z.number().int().default(DEFAULT_COHORTS.undeliveredAfterMinutes),
  remind_after_hours: z.number().int().default(24),
  /** The period of the same length just before, for the headline's changes. */
  previous: Figures,
  /** Read rate by ISO weekday (1 = Monday) and hour in `time_zone`. */
  time_zone: z.string(),
  heatmap: z.array(
    z.object({ weekday: count, hour_of_day: count, delivered: count, read: count, read_rate_percent: figure }),
  ),
  delays: z.array(
    z.object({ kind: z.enum(['delivery', 'read']), bucket_order: count, bucket: z.string(), messages: count }),
  ),
  /** Messages by campaign, pricing (Meta's per-message pricing fields) and number prefix: what cost is built on. */
  pricing: z
    .array(
      z.object({
        campaign: z.string(),
        pricing_category: z.string().nullable(),
        pricing_type: z.string().nullable(),
        pricing_model: z.string().nullable(),
        pricing_billable: z.boolean().nullable(),
        phone_prefix: z.string().nullable(),
        messages: count,
      }),
    )
    .default([]),
  /** The figures per sender (delivery_report_by), and per campaign within each sender. */
  by_sender: z.array(Figures.extend({ sender: z.string() })).default([]),
  by_sender_campaign: z.array(Figures.extend({ sender: z.string() })).default([]),
  /** Each business number as Meta last described it, and the templates not APPROVED (account_events, 0018). */
  numbers: z
    .array(
      z.object({
        phone_number: z.string(),
        quality_event: z.string().nullable(),
        quality_since: time.nullable(),
        messaging_limit: z.string().nullable(),
        last_event: z.string().nullable(),
        last_severity: z.string().nullable(),
        last_event_at: time.nullable(),
      }),
    )
    .default([]),
  templates: z
    .array(
      z.object({
        template_id: z.string(),
        template: z.string().nullable(),
        status: z.string().nullable(),
        status_since: time.nullable(),
        reason: z.string().nullable(),
        quality: z.string().nullable(),
      }),
    )
    .default([]),
  percentiles: z.object({
    delivery_p50_seconds: figure,
    delivery_p90_seconds: figure,
    read_p50_minutes: figure,
    read_p90_minutes: figure,
  }),
  /**
   * The sections left empty because their query failed, and why (only with tolerateFailedSections): an empty section
   * listed here is unknown, not zero.
   */
  unavailable: z.array(z.object({ section: z.enum(OPTIONAL_SECTIONS), reason: z.string() })).default([]),
});
export type Report = z.infer<typeof Report>;

export interface ReportOptions {
  from: Date;
  to: Date;
  /**
   * Minutes after which a sent message counts as undelivered (re-send list): the stack's `undeliveredAfterMinutes`,
   * which the undelivered alarm counts by too. @default its default (lambdas/domain/alert-settings.ts)
   */
  undeliveredAfterMinutes?: number;
  /** Hours after which a delivered message counts as unread (reminder list). @default 24 */
  unreadAfterHours?: number;
  /** Only the first rows of each list. @default 1000 */
  listLimit?: number;
  /** IANA time zone of the weekday x hour heat map. @default UTC */
  timeZone?: string;
  /**
   * A failing section (an error, a statement timeout) leaves that section empty and listed in `unavailable`,
   * instead of failing the report; the overall figures must still come. For the daily page, whose calls go through
   * Supabase's API and its statement timeout (8 s by default): `top_recipients` reads every message of the day
   * (docs/daily-report.md#when-a-section-is-missing). Only the HTML page (report-html.ts) shows each missing
   * section as such; the text says so at its top, and followUpCsv refuses a missing list. @default false: any
   * failure fails the report
   */
  tolerateFailedSections?: boolean;
}

type Query = (sql: string, params: unknown[]) => Promise<Record<string, unknown>[]>;

/** Runs the report's queries (one per section, each on indexed ranges) and validates their rows. */
export async function buildReport(query: Query, options: ReportOptions): Promise<Report> {
  return buildReportWith(sqlReportFunctionCall(query), options);
}

/**
 * The report from calls of its SQL functions, by whichever adapter makes them (report-functions.ts): SQL on a
 * direct connection, or Supabase's rpc (the sweeper's daily report link).
 */
export async function buildReportWith(call: ReportFunctionCall, options: ReportOptions): Promise<Report> {
  const range = { period_start: options.from.toISOString(), period_end: options.to.toISOString() };
  const limit = options.listLimit ?? 1000;
  const followUp = Report.pick({ resend_after_minutes: true, remind_after_hours: true }).parse({
    resend_after_minutes: options.undeliveredAfterMinutes,
    remind_after_hours: options.unreadAfterHours,
  });
  const asOf = (options.to.getTime() > Date.now() ? new Date() : options.to).toISOString();
  const timeZone = options.timeZone ?? 'UTC';
  const length = options.to.getTime() - options.from.getTime();
  const previousRange = {
    period_start: new Date(options.from.getTime() - length).toISOString(),
    period_end: options.from.toISOString(),
  };
  // The codes a re-send cannot fix, from the error catalogue: passed to SQL, never copied into it.
  const noResend = [...NO_RESEND_CODES];
  const unavailable: Report['unavailable'] = [];
  // A thunk, so that a call failing before its promise (a refused argument) is caught like one failing after.
  const optional = async (section: OptionalSection, rows: () => Promise<Record<string, unknown>[]>) => {
    if (!options.tolerateFailedSections) return rows();
    try {
      return await rows();
    } catch (error) {
      unavailable.push({ section, reason: sectionFailure(error) });
      return [];
    }
  };
  const [
    overall,
    byCampaign,
    hourly,
    best,
    top,
    failures,
    resend,
    remind,
    previous,
    heatmap,
    delays,
    percentiles,
    leftOut,
    pricing,
    bySender,
    bySenderCampaign,
    numbers,
    templates,
  ] = await Promise.all([
    call('delivery_report', { ...range, by_campaign: false }),
    optional('by_campaign', () => call('delivery_report', { ...range, by_campaign: true })),
    optional('hourly', () => call('hourly_volume', range)),
    optional('best_hours', () => call('best_send_hours', { ...range, min_delivered: 20 })),
    optional('top_recipients', () => call('top_recipients', { ...range, max_rows: 10 })),
    optional('failures', () => call('failures_by_error', range)),
    optional('resend', () =>
      call(
        'resend_list',
        {
          older_than_minutes: followUp.resend_after_minutes,
          lookback_hours: 24,
          as_of: asOf,
          no_resend_codes: noResend,
          max_rows: limit,
        },
        limit,
      ),
    ),
    // max_rows stops the function itself after a page (0029); the call's limit alone would cut its whole result.
    optional('remind', () =>
      call(
        'remind_list',
        { older_than_hours: followUp.remind_after_hours, lookback_days: 7, as_of: asOf, max_rows: limit },
        limit,
      ),
    ),
    optional('previous', () => call('delivery_report', { ...previousRange, by_campaign: false })),
    optional('heatmap', () => call('read_heatmap', { ...range, time_zone: timeZone })),
    optional('delays', () => call('delay_distribution', range)),
    optional('percentiles', () => call('delay_percentiles', range)),
    optional('resend_left_out', () =>
      call('resend_left_out', { lookback_hours: 24, as_of: asOf, no_resend_codes: noResend }),
    ),
    optional('pricing', () => call('pricing_breakdown', range)),
    optional('by_sender', () => call('delivery_report_by', { ...range, by_sender: true, by_campaign: false })),
    optional('by_sender_campaign', () => call('delivery_report_by', { ...range, by_sender: true, by_campaign: true })),
    optional('numbers', () => call('number_health', {})),
    optional('templates', () => call('templates_needing_attention', {})),
  ]);
  const empty = {
    campaign: null,
    total_messages: 0,
    sent: 0,
    delivered: 0,
    read: 0,
    failed: 0,
    delivery_rate_percent: null,
    read_rate_percent: null,
    avg_delivery_seconds: null,
    avg_read_delay_minutes: null,
  };
  return Report.parse({
    from: options.from,
    to: options.to,
    overall: overall[0] ?? empty,
    by_campaign: byCampaign,
    hourly,
    best_hours: best,
    top_recipients: top,
    failures,
    resend,
    resend_left_out: leftOut,
    remind,
    ...followUp,
    previous: previous[0] ?? empty,
    time_zone: timeZone,
    heatmap,
    delays,
    percentiles: percentiles[0] ?? {
      delivery_p50_seconds: null,
      delivery_p90_seconds: null,
      read_p50_minutes: null,
      read_p90_minutes: null,
    },
    pricing,
    by_sender: bySender,
    by_sender_campaign: bySenderCampaign,
    numbers,
    templates,
    // In the sections' order, whichever failed first.
    unavailable: unavailable.sort(
      (a, b) => OPTIONAL_SECTIONS.indexOf(a.section) - OPTIONAL_SECTIONS.indexOf(b.section),
    ),
  });
}

/** Why a section is missing, in words a reader of the page can act on; phone-like digits masked (safeError). */
function sectionFailure(error: unknown): string {
  const { message, code } = safeError(error);
  // query_canceled: PostgreSQL's statement_timeout, which Supabase's API sets for every call.
  if (code === '57014') return 'the database stopped the query at its statement timeout';
  return code ? `${message} (${code})` : message;
}

/**
 * The report with every phone number and WhatsApp user id masked (`+91********10`, `IN.**************42`): what the local server's GET /report answers, since
 * an HTTP answer ends up in terminals, proxies and shell history. Full numbers only come from the database itself
 * (DATABASE_URL, or the embedded database with the server stopped).
 */
export function maskReportPhones(report: Report): Report {
  const mask = <T extends { phone_number: string | null; recipient_user_id: string | null }>(row: T): T => ({
    ...row,
    phone_number: maskPhone(row.phone_number ?? undefined) ?? null,
    recipient_user_id: maskUserId(row.recipient_user_id ?? undefined) ?? null,
  });
  return {
    ...report,
    top_recipients: report.top_recipients.map((row) => ({
      ...row,
      phone_number: maskRecipient(row.phone_number) ?? '',
    })),
    resend: report.resend.map(mask),
    remind: report.remind.map(mask),
  };
}
