import { renderReportHtml } from '../../lambdas/report/report-html';
import { sampleReport } from '../fixtures/report';

describe('the HTML report', () => {
  const report = sampleReport({
    by_campaign: [
      { ...sampleReport().overall, campaign: 'diwali' },
      {
        ...sampleReport().overall,
        campaign: '<script>alert("x")</script>',
        sent: 10,
        delivered: 9,
        read: 1,
        failed: 1,
      },
    ],
    hourly: [
      { hour: '2024-06-01T12:00:00.000Z', sent: 600, delivered: 560, read: 300, failed: 20 },
      { hour: '2024-06-01T13:00:00.000Z', sent: 600, delivered: 540, read: 400, failed: 20 },
    ],
    heatmap: [
      { weekday: 6, hour_of_day: 12, delivered: 560, read: 300, read_rate_percent: 53.57 },
      { weekday: 6, hour_of_day: 13, delivered: 540, read: 400, read_rate_percent: 74.07 },
      { weekday: 7, hour_of_day: 3, delivered: 2, read: 2, read_rate_percent: 100 },
    ],
    delays: ['< 5 s', '5-30 s'].flatMap((bucket, i) => [
      { kind: 'delivery' as const, bucket_order: i + 1, bucket, messages: 500 - 400 * i },
      { kind: 'read' as const, bucket_order: i + 1, bucket, messages: 10 + i },
    ]),
    failures: [{ error_code: 131049, error_title: 'ecosystem engagement', messages: 30, share_percent: 75 }],
  });
  const html = renderReportHtml(report, new Date('2024-06-02T12:05:00Z'));

  it('is self-contained: no script, no stylesheet or image from elsewhere', () => {
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/<(link|img|iframe)\b/i);
    expect(html).not.toMatch(/(src|href)=["']?https?:/i);
    expect(html).not.toMatch(/url\(\s*['"]?https?:/i);
  });

  it('renders every chart as SVG in a light and a dark version, each with a text alternative and its data', () => {
    const figures = html.match(/<figure role="group"/g) ?? [];
    expect(figures).toHaveLength(4); // funnel, hourly, heat map, delays
    expect(html.match(/<svg[\s>]/g)).toHaveLength(8);
    expect(html.match(/role="img" aria-label="[^"]{20,}"/g)).toHaveLength(8);
    expect(html.match(/<details><summary>Data<\/summary><table>/g)).toHaveLength(4);
    expect(html).toContain('@media (prefers-color-scheme: dark)');
    expect(html).toContain('@media print');
  });

  it('states the headline with the change against the previous period', () => {
    expect(html).toContain('91.7 %');
    expect(html).toContain('+1.7 pts vs previous period'); // delivery rate 91.67 vs 90
    expect(html).toContain('+20.0 % vs previous period'); // 1,200 messages vs 1,000
    expect(html).toContain('9.0 s'); // p90 delivery time
  });

  it('names the best time to send only among cells with enough messages', () => {
    expect(html).toContain('Best judged cell: Sat 13:00 with 74.07 % read of 540 delivered');
  });

  it('gives failures with what to do, and the follow-up commands', () => {
    expect(html).toMatch(/131049.*Do not retry now/s);
    expect(html).toContain('npm run report -- --csv resend');
  });

  it('masks phone numbers and escapes what campaigns are called', () => {
    expect(html).toContain('+91********10');
    expect(html).not.toContain('9876543210');
    expect(html).not.toContain('<script>alert');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
  });

  it('keeps a number the source already masked (the local server answers masked ones), instead of masking it twice', () => {
    const fromServer = renderReportHtml(
      sampleReport({
        top_recipients: [
          { phone_number: '+91********10', messages: 3, read: 3, read_rate_percent: 100, avg_read_delay_minutes: 2 },
        ],
      }),
    );
    expect(fromServer).toContain('<td>+91********10</td>');
  });

  it('reloads itself only when served live (GET /dashboard), and says so', () => {
    expect(html).not.toContain('http-equiv="refresh"');
    const live = renderReportHtml(report, new Date('2024-06-02T12:05:00Z'), { refreshSeconds: 30 });
    expect(live).toContain('<meta http-equiv="refresh" content="30">');
    expect(live).toContain('Live: reloads every 30 s.');
  });
});
