import { remedy } from '../domain/whatsapp-errors';
import type { DeliverySummary } from '../store/health-store';
import { formatMeasure, formatCount as n, formatPercent as pct } from './number-format';

/** The UTC calendar day before `now`: [00:00, 24:00). */
export function previousUtcDay(now: Date): { from: Date; to: Date; label: string } {
  const to = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  const from = new Date(to.getTime() - 24 * 3600 * 1000);
  return { from, to, label: from.toISOString().slice(0, 10) };
}

/**
 * The report of [from, to) made by hand, whole, from the tracker's database: `npm run report` reads DATABASE_URL, else
 * the local `npm start` or embedded database, which is not the deployed one. The summary and the page give it when the
 * daily page could not be made, or was made without some sections.
 */
export const wholeReportCommand = (from: string, to: string) =>
  `DATABASE_URL=<your database's connection string> npm run report -- --from ${from} --to ${to} --html report.html`;

/** The daily summary as plain text for an email or a chat message. */
export function formatDailySummary(label: string, summary: DeliverySummary): { subject: string; message: string } {
  const subject = `WhatsApp delivery ${label}: ${pct(summary.delivery_rate_percent)} delivered, ${pct(summary.read_rate_percent)} read`;
  const lines = [
    `WhatsApp delivery summary for ${label} (UTC)`,
    '',
    `messages   ${n(summary.total_messages)}`,
    `sent       ${n(summary.sent)}`,
    `delivered  ${n(summary.delivered)}  (${pct(summary.delivery_rate_percent)} of sent)`,
    `read       ${n(summary.read)}  (${pct(summary.read_rate_percent)} of delivered)`,
    `failed     ${n(summary.failed)}`,
    `average delivery time  ${formatMeasure(summary.avg_delivery_seconds, 's')}`,
    ...topFailureLines(summary),
  ];
  return { subject, message: lines.join('\n') };
}

/** The day's most frequent failure and what to do about it (the error catalogue's remedy). */
function topFailureLines({ top_failure: top }: DeliverySummary): string[] {
  if (!top) return [];
  const code = top.error_code === null ? 'no error code' : String(top.error_code);
  return [
    '',
    `top failure  ${code}${top.error_title ? ` ${top.error_title}` : ''} (${n(top.messages)} messages)`,
    `what to do   ${remedy(top.error_code)}`,
  ];
}
