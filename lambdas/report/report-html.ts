import * as echarts from 'echarts';
import { maskRecipient } from '../domain/user-id';
import { remedy } from '../domain/whatsapp-errors';
import { buildCostReport } from './cost-report';
import { wholeReportCommand } from './daily-summary';
import { formatMeasure, formatCount as n, formatPercent as pct, formatQuantity as plural } from './number-format';
import { describeUnavailable, type Figures, type OptionalSection, type Report } from './report-data';
import { leftOutSummary, resendWhen } from './report-format';

/**
 * The report as one self-contained HTML page for the people who send campaigns: headline figures with the change
 * against the period before, a funnel per campaign, hourly volume, when recipients read (weekday x hour), how long
 * deliveries and reads take, failures with what to do, and the follow-up lists. Charts are SVG rendered here by
 * Apache ECharts (server-side rendering: no script, no network at view time), once for light and once for dark
 * mode; every chart has a text alternative and its data as a table. Phone numbers are masked.
 */

type Theme = 'light' | 'dark';
const PALETTE = { sent: '#5470c6', delivered: '#3ba272', read: '#9a60b4', failed: '#ee6666' };
const TEXT: Record<Theme, string> = { light: '#1f2328', dark: '#e6edf3' };
const GRID: Record<Theme, string> = { light: '#d0d7de', dark: '#30363d' };

/** An ECharts option as SVG, rendered on the server. */
function svg(option: echarts.EChartsOption, width: number, height: number, theme: Theme): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width, height });
  chart.setOption({
    animation: false,
    backgroundColor: 'transparent',
    textStyle: { color: TEXT[theme], fontFamily: 'system-ui, sans-serif' },
    ...option,
  });
  const out = chart.renderToSVGString();
  chart.dispose();
  return out;
}

/** Masks a phone number, keeping one the source already masked (the local server's /report answers masked ones). */
const masked = (recipient: string) => maskRecipient(recipient) ?? '';
const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const seconds = (value: number | null) =>
  value !== null && value >= 120 ? formatMeasure(value / 60, 'min') : formatMeasure(value, 's');
const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
/** Cells with fewer delivered messages than this are shown as too thin to judge. */
export const HEATMAP_MIN_SAMPLE = 20;

/**
 * A legend above the chart. ECharts measures text on the server with an estimate of the font, narrower than the
 * browser's system-ui: at the default 10 px gap a long label ran into the next item ("sent -> delivered"), so the gap
 * leaves room for the difference.
 */
const legend = (theme: Theme) => ({ top: 0, itemGap: 28, textStyle: { color: TEXT[theme] } });

const axis = (theme: Theme) => ({
  axisLine: { lineStyle: { color: GRID[theme] } },
  splitLine: { lineStyle: { color: GRID[theme] } },
  axisLabel: { color: TEXT[theme] },
});

/** A chart in both themes, with its text alternative and its data as a table. */
function figure(title: string, alt: string, render: (theme: Theme) => string, table: string): string {
  return `<figure role="group" aria-label="${escapeHtml(title)}">
  <figcaption>${escapeHtml(title)}</figcaption>
  <div class="chart light" role="img" aria-label="${escapeHtml(alt)}">${render('light')}</div>
  <div class="chart dark" role="img" aria-label="${escapeHtml(alt)}">${render('dark')}</div>
  <details><summary>Data</summary>${table}</details>
</figure>`;
}

function table(head: string[], rows: (string | number)[][]): string {
  const cell = (v: string | number) => `<td>${escapeHtml(typeof v === 'number' ? n(v) : v)}</td>`;
  return `<table><thead><tr>${head.map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map(cell).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

/**
 * `+2.1 pts` / `-12 %` against the previous period, or nothing when it had no data; `before` undefined: the previous
 * period's figures are missing from this report (Report.unavailable).
 */
function change(now: number | null, before: number | null | undefined, unit: 'pts' | '%'): string {
  if (before === undefined) return '<span class="change">previous period not available</span>';
  if (now === null || before === null) return '<span class="change">no earlier period to compare</span>';
  const delta = unit === 'pts' ? now - before : before === 0 ? null : (100 * (now - before)) / before;
  if (delta === null) return '<span class="change">new</span>';
  const sign = delta > 0 ? '+' : '';
  return `<span class="change">${sign}${delta.toFixed(1)} ${unit} vs previous period</span>`;
}

function headline(r: Report): string {
  const o = r.overall;
  // Undefined figures when the previous period is missing: each change then says so.
  const p: Partial<Figures> = isUnavailable(r, ['previous']) ? {} : r.previous;
  const p90 = isUnavailable(r, ['percentiles'])
    ? card('90 % delivered within', 'n/a', '<span class="change">not available</span>')
    : card(
        '90 % delivered within',
        seconds(r.percentiles.delivery_p90_seconds),
        '<span class="change">reported times only</span>',
      );
  return `<section aria-labelledby="h-headline"><h2 id="h-headline">Headline</h2><div class="cards">
  ${card('Messages', n(o.total_messages), change(o.total_messages, p.total_messages, '%'))}
  ${card('Delivery rate', pct(o.delivery_rate_percent), change(o.delivery_rate_percent, p.delivery_rate_percent, 'pts'))}
  ${card('Read rate', pct(o.read_rate_percent), change(o.read_rate_percent, p.read_rate_percent, 'pts'))}
  ${card('Average delivery time', seconds(o.avg_delivery_seconds), change(o.avg_delivery_seconds, p.avg_delivery_seconds, '%'))}
  ${p90}
</div></section>`;
}

const card = (label: string, value: string, delta: string) =>
  `<div class="card"><div class="label">${label}</div><div class="value">${value}</div>${delta}</div>`;

/** Whether any of `sections` is missing from this report (its query failed: Report.unavailable). */
const isUnavailable = (r: Report, sections: readonly OptionalSection[]) =>
  r.unavailable.some((u) => sections.includes(u.section));

/** The page's sections below the headline: each with its anchor, its title and the report sections it is drawn from. */
const PAGE_SECTIONS: {
  id: string;
  title: (r: Report) => string;
  from: readonly OptionalSection[];
  render: (r: Report) => string;
  /** It marks its own missing parts (each list on its line), so that one failed list does not hide the others. */
  marksItsOwnGaps?: true;
}[] = [
  { id: 'funnel', title: () => 'Funnel per campaign', from: ['by_campaign'], render: (r) => funnel(r) },
  { id: 'hourly', title: () => 'Hourly volume (UTC)', from: ['hourly'], render: (r) => hourly(r) },
  {
    id: 'heatmap',
    title: (r) => `Read rate by weekday and hour (${r.time_zone})`,
    from: ['heatmap'],
    render: (r) => heatmap(r),
  },
  {
    id: 'delays',
    title: () => 'How long deliveries and reads took',
    from: ['delays', 'percentiles'],
    render: (r) => delays(r),
  },
  { id: 'failures', title: () => 'Failures by error code', from: ['failures'], render: (r) => failures(r) },
  { id: 'pricing', title: () => 'Messages by pricing category', from: ['pricing'], render: (r) => pricing(r) },
  {
    id: 'account',
    title: () => 'Numbers and templates',
    from: ['numbers', 'templates'],
    render: (r) => accountHealth(r),
  },
  {
    id: 'follow',
    title: () => 'Follow-ups',
    from: ['resend', 'remind', 'resend_left_out'],
    render: (r) => followUps(r),
    marksItsOwnGaps: true,
  },
  { id: 'top', title: () => 'Most engaged recipients', from: ['top_recipients'], render: (r) => topRecipients(r) },
];

/**
 * The report's sections this page shows: the headline's comparison and percentile, and those of PAGE_SECTIONS. The
 * others (best hours, the per-sender figures) are the text report's: a page without them is not incomplete.
 */
export const SECTIONS_ON_THE_PAGE: readonly OptionalSection[] = [
  ...new Set<OptionalSection>(['previous', 'percentiles', ...PAGE_SECTIONS.flatMap((s) => s.from)]),
];

/** The sections this page would show but is without (their queries failed), with why. */
export const unavailableOnThePage = (r: Report): Report['unavailable'] =>
  r.unavailable.filter((u) => SECTIONS_ON_THE_PAGE.includes(u.section));

/**
 * The section, or in its place its title and why this report is without it: an empty section whose query failed must
 * not read as "none" (no failures, nothing to re-send).
 */
function unlessUnavailable(r: Report, section: (typeof PAGE_SECTIONS)[number]): string {
  const gone = r.unavailable.filter((u) => section.from.includes(u.section));
  if (gone.length === 0 || section.marksItsOwnGaps) return section.render(r);
  const reasons = [...new Set(gone.map((u) => u.reason))].join('; ');
  const heading = `h-${section.id}`;
  return `<section class="missing" aria-labelledby="${heading}"><h2 id="${heading}">${escapeHtml(section.title(r))}</h2><p>Not in this report: ${escapeHtml(reasons)}.</p></section>`;
}

/** At the top of a page with missing sections: which, so that no one reads the page as whole. */
function unavailableNotice(r: Report): string {
  const unavailable = unavailableOnThePage(r);
  if (unavailable.length === 0) return '';
  return `<p class="missing" role="note"><strong>Incomplete:</strong> ${escapeHtml(
    `this report is without ${describeUnavailable({ unavailable }).join('; ')}. The other sections are complete. Make the whole report on a direct connection to the database: ${wholeReportCommand(r.from, r.to)}`,
  )}</p>`;
}

function funnel(r: Report): string {
  const campaigns: Figures[] = r.by_campaign.length ? r.by_campaign : [r.overall];
  const names = campaigns.map((c) => c.campaign ?? '(no campaign)');
  const series = (['sent', 'delivered', 'read', 'failed'] as const).map((stage) => ({
    name: stage,
    type: 'bar' as const,
    data: campaigns.map((c) => c[stage]),
    itemStyle: { color: PALETTE[stage] },
  }));
  const height = 80 + 60 * campaigns.length;
  const alt = campaigns
    .map((c, i) => `${names[i]}: ${c.sent} sent, ${c.delivered} delivered, ${c.read} read, ${c.failed} failed`)
    .join('; ');
  return figure(
    'Funnel per campaign: sent, delivered, read (failed beside them)',
    alt,
    (theme) =>
      svg(
        {
          legend: legend(theme),
          grid: { left: 140, right: 30, top: 40, bottom: 30 },
          xAxis: { type: 'value', ...axis(theme) },
          yAxis: { type: 'category', data: names, inverse: true, ...axis(theme) },
          series,
        },
        860,
        height,
        theme,
      ),
    table(
      ['campaign', 'sent', 'delivered', 'read', 'failed', 'delivery rate', 'read rate'],
      campaigns.map((c, i) => [
        names[i]!,
        c.sent,
        c.delivered,
        c.read,
        c.failed,
        pct(c.delivery_rate_percent),
        pct(c.read_rate_percent),
      ]),
    ),
  );
}

function hourly(r: Report): string {
  const hours = r.hourly.map((h) => `${h.hour.slice(0, 13).replace('T', ' ')}:00`);
  const series = (['sent', 'delivered', 'read', 'failed'] as const).map((stage) => ({
    name: stage,
    type: 'line' as const,
    showSymbol: false,
    data: r.hourly.map((h) => h[stage]),
    itemStyle: { color: PALETTE[stage] },
    lineStyle: { color: PALETTE[stage] },
  }));
  const peak = r.hourly.reduce(
    (best, h) => (h.sent > (best?.sent ?? -1) ? h : best),
    undefined as Report['hourly'][number] | undefined,
  );
  return figure(
    'Hourly volume (UTC)',
    peak
      ? `${r.hourly.length} hours with messages; the busiest hour was ${peak.hour.slice(0, 13)}:00 UTC with ${peak.sent} sent`
      : 'No messages in the period',
    (theme) =>
      svg(
        {
          legend: legend(theme),
          grid: { left: 60, right: 30, top: 40, bottom: 60 },
          xAxis: { type: 'category', data: hours, ...axis(theme) },
          yAxis: { type: 'value', ...axis(theme) },
          series,
        },
        860,
        320,
        theme,
      ),
    table(
      ['hour (UTC)', 'sent', 'delivered', 'read', 'failed'],
      r.hourly.map((h, i) => [hours[i]!, h.sent, h.delivered, h.read, h.failed]),
    ),
  );
}

function heatmap(r: Report): string {
  const judged = r.heatmap.filter((c) => c.delivered >= HEATMAP_MIN_SAMPLE && c.read_rate_percent !== null);
  const best = [...judged].sort((a, b) => b.read_rate_percent! - a.read_rate_percent!)[0];
  const data = r.heatmap.map((c) => [
    c.hour_of_day,
    c.weekday - 1,
    c.delivered >= HEATMAP_MIN_SAMPLE ? c.read_rate_percent : '-',
    c.delivered,
  ]);
  return figure(
    `Read rate by weekday and hour (${r.time_zone}): when to send`,
    best
      ? `Best judged cell: ${WEEKDAYS[best.weekday - 1]} ${best.hour_of_day}:00 with ${best.read_rate_percent} % read of ${best.delivered} delivered; cells with fewer than ${HEATMAP_MIN_SAMPLE} delivered are left blank`
      : `No cell has ${HEATMAP_MIN_SAMPLE} delivered messages yet`,
    (theme) =>
      svg(
        {
          grid: { left: 60, right: 30, top: 20, bottom: 80 },
          xAxis: {
            type: 'category',
            data: Array.from({ length: 24 }, (_, h) => String(h)),
            name: 'hour',
            ...axis(theme),
          },
          yAxis: { type: 'category', data: WEEKDAYS, inverse: true, ...axis(theme) },
          visualMap: {
            min: 0,
            max: 100,
            calculable: false,
            text: ['100 % read', '0 %'],
            orient: 'horizontal',
            left: 'center',
            bottom: 0,
            textStyle: { color: TEXT[theme] },
            inRange: { color: ['#f7fbff', '#6baed6', '#08306b'] },
          },
          series: [
            {
              type: 'heatmap',
              data,
              label: { show: true, formatter: (p) => String((p.data as (number | string)[])[3]), fontSize: 8 },
            },
          ],
        },
        860,
        320,
        theme,
      ),
    table(
      ['weekday', `hour (${r.time_zone})`, 'delivered', 'read', 'read rate'],
      r.heatmap.map((c) => [WEEKDAYS[c.weekday - 1]!, c.hour_of_day, c.delivered, c.read, pct(c.read_rate_percent)]),
    ),
  );
}

function delays(r: Report): string {
  const of = (kind: 'delivery' | 'read') =>
    r.delays.filter((d) => d.kind === kind).sort((a, b) => a.bucket_order - b.bucket_order);
  const buckets = of('delivery').map((d) => d.bucket);
  const p = r.percentiles;
  return figure(
    'How long deliveries and reads took',
    `Deliveries: median ${seconds(p.delivery_p50_seconds)}, 90 % within ${seconds(p.delivery_p90_seconds)}. Reads after delivery: median ${p.read_p50_minutes ?? 'n/a'} min, 90 % within ${p.read_p90_minutes ?? 'n/a'} min`,
    (theme) =>
      svg(
        {
          legend: legend(theme),
          grid: { left: 60, right: 30, top: 40, bottom: 40 },
          xAxis: { type: 'category', data: buckets, ...axis(theme) },
          yAxis: { type: 'value', ...axis(theme) },
          series: [
            {
              name: 'sent -> delivered',
              type: 'bar',
              data: of('delivery').map((d) => d.messages),
              itemStyle: { color: PALETTE.delivered },
            },
            {
              name: 'delivered -> read',
              type: 'bar',
              data: of('read').map((d) => d.messages),
              itemStyle: { color: PALETTE.read },
            },
          ],
        },
        860,
        300,
        theme,
      ),
    table(
      ['delay', 'deliveries', 'reads'],
      buckets.map((b, i) => [b, of('delivery')[i]?.messages ?? 0, of('read')[i]?.messages ?? 0]),
    ),
  );
}

function failures(r: Report): string {
  if (r.failures.length === 0)
    return '<section aria-labelledby="h-failures"><h2 id="h-failures">Failures</h2><p>No failures in the period.</p></section>';
  return `<section aria-labelledby="h-failures"><h2 id="h-failures">Failures by error code, and what to do</h2>${table(
    ['error', 'title', 'messages', 'share', 'what to do', 're-send'],
    r.failures.map((f) => [
      f.error_code === null ? '(none)' : String(f.error_code),
      f.error_title ?? '',
      f.messages,
      pct(f.share_percent),
      remedy(f.error_code),
      resendWhen(f.error_code),
    ]),
  )}</section>`;
}

function pricing(r: Report): string {
  if (r.pricing.length === 0) return '';
  const cost = buildCostReport(r);
  return `<section aria-labelledby="h-pricing"><h2 id="h-pricing">Messages by pricing category</h2>${table(
    ['campaign', 'category', 'messages', 'billable', 'free'],
    cost.lines.map((l) => [l.campaign, l.category, l.messages, l.billable, l.free]),
  )}<p>Estimated spend with your rate card: <code>npm run report -- --cost --rates FILE</code></p></section>`;
}

function accountHealth(r: Report): string {
  if (r.numbers.length === 0 && r.templates.length === 0) return '';
  const numbers = r.numbers.length
    ? `<h3>Business numbers</h3>${table(
        ['number', 'quality', 'messaging limit', 'last event'],
        r.numbers.map((x) => [
          x.phone_number,
          x.quality_event ?? 'no flag reported',
          x.messaging_limit ?? 'not reported',
          x.last_event ? `${x.last_event} (${x.last_severity})` : '',
        ]),
      )}`
    : '';
  const templates = r.templates.length
    ? `<h3>Templates not approved, or with falling quality</h3>${table(
        ['template', 'status', 'reason', 'quality'],
        r.templates.map((t) => [t.template ?? t.template_id, t.status ?? 'unknown', t.reason ?? '', t.quality ?? '']),
      )}`
    : '';
  return `<section aria-labelledby="h-account"><h2 id="h-account">Numbers and templates</h2>${numbers}${templates}</section>`;
}

/** The follow-up lists' counts; a list whose query failed says so on its own line, the others still count. */
function followUps(r: Report): string {
  const reason = (section: OptionalSection) => r.unavailable.find((u) => u.section === section)?.reason;
  const notInThisReport = (what: string, why: string) => `${what}: not in this report (${escapeHtml(why)})`;
  const resendWhy = reason('resend');
  const leftOutWhy = reason('resend_left_out');
  const remindWhy = reason('remind');
  const leftOut = leftOutWhy
    ? notInThisReport('The failures left out of the re-send list', leftOutWhy)
    : escapeHtml(leftOutSummary(r));
  const resend = resendWhy
    ? notInThisReport('The re-send list', resendWhy)
    : `<strong>${n(r.resend.length)}</strong> not delivered after ${plural(r.resend_after_minutes, 'minute')}, or failed with an error a re-send can fix: <code>npm run report -- --csv resend</code>`;
  const remind = remindWhy
    ? notInThisReport('The reminder list', remindWhy)
    : `<strong>${n(r.remind.length)}</strong> delivered but unread after ${plural(r.remind_after_hours, 'hour')}: <code>npm run report -- --csv remind</code>`;
  return `<section aria-labelledby="h-follow"><h2 id="h-follow">Follow-ups</h2><ul>
  <li>${resend}${leftOut ? `<br>${leftOut}` : ''}</li>
  <li>${remind}</li>
</ul></section>`;
}

function topRecipients(r: Report): string {
  if (r.top_recipients.length === 0) return '';
  return `<section aria-labelledby="h-top"><h2 id="h-top">Most engaged recipients</h2>${table(
    ['recipient', 'messages', 'read', 'read rate'],
    r.top_recipients.map((t) => [masked(t.phone_number), t.messages, t.read, pct(t.read_rate_percent)]),
  )}</section>`;
}

const STYLE = `
:root { color-scheme: light dark; --fg: ${TEXT.light}; --bg: #ffffff; --muted: #59636e; --line: ${GRID.light}; }
@media (prefers-color-scheme: dark) { :root { --fg: ${TEXT.dark}; --bg: #0d1117; --muted: #9198a1; --line: ${GRID.dark}; } }
body { font: 15px/1.5 system-ui, sans-serif; color: var(--fg); background: var(--bg); max-width: 900px; margin: 2rem auto; padding: 0 1rem; }
h1 { margin-bottom: 0; } .meta, .change, figcaption { color: var(--muted); }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(160px, 1fr)); gap: .75rem; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: .75rem; } .card .value { font-size: 1.6rem; font-weight: 600; }
.change { font-size: .8rem; display: block; }
.missing { border-left: 4px solid ${PALETTE.failed}; padding-left: .75rem; }
figure { margin: 2rem 0; } figcaption { font-weight: 600; margin-bottom: .5rem; }
.chart.dark { display: none; }
@media (prefers-color-scheme: dark) { .chart.light { display: none; } .chart.dark { display: block; } }
table { border-collapse: collapse; width: 100%; margin: .5rem 0; } th, td { border-bottom: 1px solid var(--line); padding: .25rem .5rem; text-align: left; }
@media print { .chart.dark { display: none !important; } .chart.light { display: block !important; } details { display: none; } body { margin: 0; } figure { break-inside: avoid; } }
`;

/** How the page is served: a file (the default) or the local server's live GET /dashboard. */
export interface ReportHtmlOptions {
  /** The page reloads itself every so many seconds (a meta refresh: no script), and says so. @default no reload */
  refreshSeconds?: number;
}

/** The whole page. */
export function renderReportHtml(r: Report, generatedAt = new Date(), options: ReportHtmlOptions = {}): string {
  const refresh = options.refreshSeconds;
  const title = `WhatsApp delivery report, ${r.from.slice(0, 16).replace('T', ' ')} to ${r.to.slice(0, 16).replace('T', ' ')} UTC`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${refresh ? `<meta http-equiv="refresh" content="${Math.round(refresh)}">\n` : ''}<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>WhatsApp delivery report</h1><p class="meta">${escapeHtml(title.replace('WhatsApp delivery report, ', ''))}; generated ${generatedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC; ${isUnavailable(r, ['previous']) ? 'not compared' : 'compared'} with the ${escapeHtml(
    durationText(Date.parse(r.to) - Date.parse(r.from)),
  )} before.${refresh ? ` Live: reloads every ${Math.round(refresh)} s.` : ''}</p></header>
<main>
${unavailableNotice(r)}
${headline(r)}
${PAGE_SECTIONS.map((section) => unlessUnavailable(r, section)).join('\n')}
</main>
</body>
</html>
`;
}

function durationText(ms: number): string {
  const hours = ms / 3_600_000;
  return hours % 24 === 0 ? `${hours / 24} day(s)` : `${Math.round(hours)} hour(s)`;
}
