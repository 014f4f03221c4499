import { maskRecipient } from '../domain/user-id';
import { remedy, whatsappError } from '../domain/whatsapp-errors';
import {
  formatCount as n,
  formatMeasure as num,
  formatPercent as pct,
  formatQuantity as plural,
} from './number-format';
import { describeUnavailable, type Figures, type Report } from './report-data';

const NUMERIC = /^(n\/a|[-+]?[\d,.]+( ?(%|s|min))?)$/;

/** A plain-text table: numbers right-aligned, text left-aligned. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const numeric = headers.map(
    (_, i) => i > 0 && rows.length > 0 && rows.every((r) => NUMERIC.test(String(r[i] ?? ''))),
  );
  const line = (r: string[]) =>
    r
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

const figuresRow = (label: string, f: Figures) => [
  label,
  n(f.total_messages),
  n(f.sent),
  n(f.delivered),
  n(f.read),
  n(f.failed),
  pct(f.delivery_rate_percent),
  pct(f.read_rate_percent),
  num(f.avg_delivery_seconds, 's'),
  num(f.avg_read_delay_minutes, 'min'),
];
const FIGURE_HEADERS = [
  '',
  'messages',
  'sent',
  'delivered',
  'read',
  'failed',
  'delivery',
  'read rate',
  'avg delivery',
  'avg read delay',
];

/** What `--by` splits the figures by. */
export interface ReportSplit {
  byCampaign?: boolean;
  /** One row per sender; with `byCampaign`, one per campaign within each sender. */
  bySender?: boolean;
}

/** The readable report. Phone numbers are masked unless `showPhones`: a terminal is often shared or recorded. */
export function formatReport(report: Report, options: ReportSplit & { showPhones?: boolean } = {}): string {
  const phone = (p: string | null) => (options.showPhones ? (p ?? '') : (maskRecipient(p) ?? ''));
  const out: string[] = [];
  out.push(`WhatsApp delivery report ${report.from} .. ${report.to} (UTC)`, '');
  // An empty section whose query failed is unknown, not zero: said first, before any figure is read as whole.
  if (report.unavailable.length)
    out.push(`Incomplete: this report is without ${describeUnavailable(report).join('; ')}`, '');
  const rows = [figuresRow('all', report.overall)];
  if (options.bySender && options.byCampaign)
    for (const c of report.by_sender_campaign) rows.push(figuresRow(`${c.sender} / ${c.campaign ?? '(none)'}`, c));
  else if (options.bySender) for (const c of report.by_sender) rows.push(figuresRow(c.sender, c));
  else if (options.byCampaign) for (const c of report.by_campaign) rows.push(figuresRow(c.campaign ?? '(none)', c));
  out.push(table(FIGURE_HEADERS, rows), '');
  out.push('read rate = read / delivered; delivery rate = delivered / sent; times from reported stages only', '');
  out.push(...accountHealthLines(report));

  if (report.failures.length) {
    out.push(
      'Failures by error code',
      table(
        ['code', 'title', 'messages', 'share', 're-send'],
        report.failures.map((f) => [
          String(f.error_code ?? '-'),
          f.error_title ?? '',
          n(f.messages),
          pct(f.share_percent),
          resendWhen(f.error_code),
        ]),
      ),
      'What to do:',
      ...report.failures.map((f) => `  ${String(f.error_code ?? '-')}: ${remedy(f.error_code)}`),
      '',
    );
  }
  if (report.best_hours.length) {
    out.push(
      'Best hours to send (UTC, by read rate)',
      table(
        ['hour', 'delivered', 'read', 'read rate'],
        report.best_hours
          .slice(0, 5)
          .map((h) => [
            `${String(h.hour_of_day).padStart(2, '0')}:00`,
            n(h.delivered),
            n(h.read),
            pct(h.read_rate_percent),
          ]),
      ),
      '',
    );
  }
  if (report.hourly.length) {
    out.push(
      'Hourly volume',
      table(
        ['hour', 'sent', 'delivered', 'read', 'failed'],
        report.hourly
          .slice(-24)
          .map((h) => [
            `${h.hour.slice(0, 13).replace('T', ' ')}:00`,
            n(h.sent),
            n(h.delivered),
            n(h.read),
            n(h.failed),
          ]),
      ),
      '',
    );
  }
  if (report.top_recipients.length) {
    out.push(
      'Most engaged recipients',
      table(
        ['phone', 'messages', 'read', 'read rate', 'avg read delay'],
        report.top_recipients.map((r) => [
          phone(r.phone_number),
          n(r.messages),
          n(r.read),
          pct(r.read_rate_percent),
          num(r.avg_read_delay_minutes, 'min'),
        ]),
      ),
      '',
    );
  }
  out.push(
    `To re-send (not delivered after ${plural(report.resend_after_minutes, 'minute')}, or failed with an error a re-send can fix): ${n(report.resend.length)}${report.resend.length ? '  -> npm run report -- --csv resend' : ''}`,
  );
  const leftOut = leftOutSummary(report);
  if (leftOut) out.push(`  ${leftOut}`);
  out.push(
    `To remind (delivered, unread after ${plural(report.remind_after_hours, 'hour')}): ${n(report.remind.length)}${report.remind.length ? '  -> npm run report -- --csv remind' : ''}`,
  );
  return out.join('\n');
}

/**
 * The business numbers and templates as Meta last described them (account_events): every number's quality and
 * messaging limit, and each template that is not APPROVED or whose quality is falling. Nothing when Meta sent none.
 */
export function accountHealthLines(report: Report): string[] {
  const out: string[] = [];
  if (report.numbers.length) {
    out.push(
      'Business numbers (as Meta last reported them)',
      table(
        ['number', 'quality', 'messaging limit', 'last event'],
        report.numbers.map((x) => [
          x.phone_number,
          x.quality_event === 'FLAGGED' ? 'FLAGGED (low quality)' : (x.quality_event ?? 'no flag reported'),
          x.messaging_limit ?? 'not reported',
          x.last_event ? `${x.last_event} (${x.last_severity}) ${(x.last_event_at ?? '').slice(0, 16)}` : '',
        ]),
      ),
      '',
    );
  }
  if (report.templates.length) {
    out.push(
      'Templates not approved, or with falling quality',
      table(
        ['template', 'status', 'since', 'reason', 'quality'],
        report.templates.map((t) => [
          t.template ?? t.template_id,
          t.status ?? 'unknown',
          (t.status_since ?? '').slice(0, 16),
          t.reason ?? '',
          t.quality ?? '',
        ]),
      ),
      '',
    );
  }
  return out;
}

/** For machines: the overall figures at the top level, every section under its name. */
export function reportJson(report: Report): Record<string, unknown> {
  const { campaign: _campaign, ...overall } = report.overall;
  return {
    from: report.from,
    to: report.to,
    ...overall,
    by_campaign: report.by_campaign,
    by_sender: report.by_sender,
    by_sender_campaign: report.by_sender_campaign,
    numbers: report.numbers,
    templates: report.templates,
    hourly: report.hourly,
    best_hours: report.best_hours,
    top_recipients: report.top_recipients,
    failures: report.failures.map((f) => ({
      ...f,
      what_to_do: remedy(f.error_code),
      resend: whatsappError(f.error_code)?.resend ?? 'unknown',
      resend_when: resendWhen(f.error_code),
    })),
    resend: report.resend,
    resend_left_out: report.resend_left_out.map((l) => ({ ...l, why: resendWhen(l.error_code) })),
    remind: report.remind,
    unavailable: report.unavailable,
  };
}

/** When a re-send of a message that failed with this code can succeed (the error catalogue), or `unknown`. */
export function resendWhen(code: number | null): string {
  if (code === null) return 'unknown: no error code';
  return whatsappError(code)?.when ?? 'unknown code: see its details';
}

/**
 * The failures the re-send list leaves out and why, in one line (empty when none): the list itself cannot say
 * what it does not hold.
 */
export function leftOutSummary(report: Report): string {
  const total = report.resend_left_out.reduce((sum, l) => sum + l.messages, 0);
  if (total === 0) return '';
  const codes = report.resend_left_out.map(
    (l) => `${l.error_code}${l.error_title ? ` ${l.error_title}` : ''}: ${n(l.messages)} (${resendWhen(l.error_code)})`,
  );
  return `Left out: ${plural(total, 'failed message')} a re-send cannot fix; ${codes.join('; ')}`;
}

const csvCell = (v: unknown) => {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** A follow-up list as CSV (full phone numbers: the point is to contact them). */
export function followUpCsv(report: Report, list: 'resend' | 'remind'): string {
  // An empty list whose query failed would read as nobody to contact.
  const unavailable = report.unavailable.find((u) => u.section === list);
  if (unavailable) throw new Error(`the ${list} list could not be read: ${unavailable.reason}`);
  const rows = report[list] as Record<string, unknown>[];
  const headers =
    list === 'resend'
      ? [
          'message_id',
          'phone_number',
          'campaign',
          'sent_at',
          'minutes_waiting',
          'failed_at',
          'error_code',
          'resend_when',
          // Last, so spreadsheets that read the earlier columns by position keep working.
          'recipient_user_id',
        ]
      : ['message_id', 'phone_number', 'campaign', 'delivered_at', 'hours_unread', 'recipient_user_id'];
  const cell = (r: Record<string, unknown>, h: string) =>
    h === 'resend_when'
      ? r.failed_at
        ? resendWhen((r.error_code as number | null) ?? null)
        : 'not delivered, no failure reported yet'
      : r[h];
  return `${[headers.join(','), ...rows.map((r) => headers.map((h) => csvCell(cell(r, h))).join(','))].join('\n')}\n`;
}
