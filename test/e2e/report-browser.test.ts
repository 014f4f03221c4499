import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { type BrowserPage, type ColorScheme, findChromium, HeadlessChromium } from '../../testkit/headless-chromium';
import {
  LISTEN_DEADLINE_MS,
  type LocalServerProcess,
  startLocalServerProcess,
  waitUntilDrained,
} from '../../testkit/local-server-process';
import { metaFailedStatus, metaStatus, metaWebhook } from '../../testkit/webhooks';
import { createTestDatabase, hasRealPostgres, type TestDatabase } from '../support/databases';

/**
 * The HTML report in a real browser (issue 16, item 4): the file `npm run report -- --html` writes, and the live
 * GET /dashboard of a real `npm start`, in headless Chromium, light and dark. Screenshots go to
 * artifacts/screenshots/ (kept by CI). Without Chromium this skips, but only outside CI: CI installs it (.ci/run)
 * and counts a skipped test as a failure.
 */
const chromium = findChromium();
const describeWithBrowser = chromium || process.env.CI ? describe : describe.skip;
const ROOT = path.resolve(__dirname, '../..');
const SCREENSHOTS = path.join(ROOT, 'artifacts', 'screenshots');
const TOKEN = 'dashboard-test-token';
/** Funnel, hourly volume, read heat map, delays: the report's chart sections (test/unit/report-html.test.ts). */
const CHART_SECTIONS = 4;

interface ChartSection {
  title: string;
  visibleCharts: number;
  theme: string;
  width: number;
  height: number;
  /** Drawn SVG elements (paths, rectangles, text): a failed chart has none. */
  marks: number;
  /**
   * Data drawn: coloured shapes (fill or stroke not grey: axes, grid and text are grey) at least 28 px wide or high
   * (legend icons are smaller). A chart with axes and legend but no bars, lines or cells has none.
   */
  dataMarks: number;
  /**
   * Pairs of legend marks (texts and icons in the chart's top 32 px) that overlap as the browser lays them out:
   * ECharts sizes the legend on the server with estimated text widths, so a gap too small lets a label run into the
   * next item.
   */
  legendOverlaps: string[];
}

/** Per chart section: the charts shown in the current color scheme and what their SVG drew. */
const CHART_SECTIONS_JS = `[...document.querySelectorAll('figure')].map((figure) => {
  const shown = [...figure.querySelectorAll('.chart')].filter((c) => getComputedStyle(c).display !== 'none');
  const svg = shown[0] && shown[0].querySelector('svg');
  const box = svg ? svg.getBoundingClientRect() : { width: 0, height: 0 };
  return {
    title: (figure.querySelector('figcaption') || {}).textContent || '',
    visibleCharts: shown.length,
    theme: shown[0] ? (shown[0].classList.contains('dark') ? 'dark' : 'light') : '',
    width: Math.round(box.width),
    height: Math.round(box.height),
    marks: svg ? svg.querySelectorAll('path, rect, text, circle, polyline').length : 0,
    dataMarks: svg ? [...svg.querySelectorAll('path, rect, circle, polyline')].filter((shape) => {
      const style = getComputedStyle(shape);
      const coloured = [style.fill, style.stroke].some((paint) => {
        const rgb = (paint.match(/\\d+(\\.\\d+)?/g) || []).slice(0, 3).map(Number);
        return rgb.length === 3 && Math.max(...rgb) - Math.min(...rgb) >= 40;
      });
      const box = shape.getBoundingClientRect();
      return coloured && (box.width >= 28 || box.height >= 28);
    }).length : 0,
    legendOverlaps: (() => {
      if (!svg) return [];
      const top = svg.getBoundingClientRect().top;
      const marks = [...svg.querySelectorAll('text, path, rect')]
        .map((mark) => ({ mark, box: mark.getBoundingClientRect() }))
        .filter(({ box }) => box.width > 0 && box.height < 20 && box.bottom - top <= 32);
      // Each label against every mark that starts at or after it (the next item's icon and label); an item's own
      // icon is to the left of its label.
      const overlaps = [];
      for (const label of marks.filter(({ mark }) => mark.tagName === 'text'))
        for (const other of marks)
          if (other !== label && other.box.left >= label.box.left && label.box.right > other.box.left + 1)
            overlaps.push(label.mark.textContent + ' runs into ' + (other.mark.textContent || other.mark.tagName));
      return overlaps;
    })(),
  };
})`;

async function expectEveryChartRendered(page: BrowserPage, scheme: ColorScheme): Promise<void> {
  const sections = await page.evaluate<ChartSection[]>(CHART_SECTIONS_JS);
  expect(sections).toHaveLength(CHART_SECTIONS);
  for (const section of sections) {
    // The title in the message says which chart broke.
    expect({ title: section.title, visibleCharts: section.visibleCharts, theme: section.theme }).toEqual({
      title: section.title,
      visibleCharts: 1,
      theme: scheme,
    });
    expect({
      title: section.title,
      width: section.width > 300,
      height: section.height > 100,
      marks: section.marks >= 10,
      data: section.dataMarks > 0,
      legendOverlaps: section.legendOverlaps,
    }).toEqual({
      title: section.title,
      width: true,
      height: true,
      marks: true,
      data: true,
      legendOverlaps: [],
    });
  }
}

/** Light then dark: no problem on the page, every chart drawn, a screenshot each. */
async function checkBothSchemes(page: BrowserPage, name: string): Promise<void> {
  for (const scheme of ['light', 'dark'] as const) {
    await page.setColorScheme(scheme);
    await expectEveryChartRendered(page, scheme);
    await page.screenshot(path.join(SCREENSHOTS, `${name}-${scheme}.png`));
  }
  expect(page.problems).toEqual([]);
}

/**
 * Traffic up to now: sent, mostly delivered, some read, a few failed, over a dozen numbers. The first 25 are within
 * one half hour (one heat-map cell needs 20 deliveries to be drawn), the rest one every 25 minutes before.
 */
function recentTraffic(count: number, prefix: string): Record<string, unknown>[] {
  const now = Math.floor(Date.now() / 1000);
  return Array.from({ length: count }, (_, i) => {
    // The last whole half hour (:00 or :30 UTC) lies within one hour in UTC and in Asia/Kolkata (UTC+5:30) alike.
    const slot = Math.floor(now / 1_800) * 1_800 - 1_800;
    const sentAt = i < 25 ? slot + 60 + i * 60 : slot - (i - 24) * 1_500;
    const id = `wamid.${prefix}${i}`;
    const recipient_id = `9198765${String(43_000 + (i % 12)).padStart(5, '0')}`;
    const statuses = [metaStatus({ id, recipient_id, status: 'sent', timestamp: String(sentAt) })];
    if (i % 9 === 4) statuses.push(metaFailedStatus({ id, recipient_id, timestamp: String(sentAt + 2) }));
    else {
      statuses.push(metaStatus({ id, recipient_id, status: 'delivered', timestamp: String(sentAt + 2 + (i % 7) * 9) }));
      if (i % 3 !== 0)
        statuses.push(
          metaStatus({ id, recipient_id, status: 'read', timestamp: String(sentAt + 120 + (i % 10) * 40) }),
        );
    }
    return metaWebhook(statuses);
  });
}

async function postWebhooks(server: LocalServerProcess, webhooks: Record<string, unknown>[]): Promise<void> {
  for (const webhook of webhooks) {
    const response = await fetch(`${server.url}/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-webhook-token': TOKEN },
      body: JSON.stringify(webhook),
    });
    expect(response.status).toBe(200);
  }
  await waitUntilDrained(server.url);
}

describeWithBrowser('the HTML report in headless Chromium', () => {
  let server: LocalServerProcess;
  let browser: HeadlessChromium;
  let db: TestDatabase | undefined;

  beforeAll(async () => {
    // A scratch database on the real server when there is one: npm start then skips booting and migrating PGlite.
    db = hasRealPostgres() ? await createTestDatabase('postgres') : undefined;
    const database: Record<string, string> = db?.url ? { DATABASE_URL: db.url } : { DATA_DIR: 'memory' };
    [server, browser] = await Promise.all([
      startLocalServerProcess({ ...database, WEBHOOK_SHARED_TOKEN: TOKEN }),
      HeadlessChromium.launch({ bin: chromium }),
    ]);
    await postWebhooks(server, recentTraffic(40, 'seed'));
  }, LISTEN_DEADLINE_MS + 60_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await db?.drop();
  });

  it('the file written by npm run report -- --html: every chart, light and dark, no console error or failed request', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'report-html-')), 'report.html');
    await promisify(execFile)(
      'npm',
      ['run', '--silent', 'report', '--', '--html', file, '--time-zone', 'Asia/Kolkata'],
      {
        cwd: ROOT,
        env: { ...process.env, LOCAL_URL: server.url, WEBHOOK_SHARED_TOKEN: TOKEN, DATABASE_URL: '' },
      },
    );
    const page = await browser.newPage({ width: 1000, height: 900 });
    await page.goto(`file://${file}`);
    expect(await page.evaluate('document.querySelector(".card .value").textContent')).toBe('40');
    await checkBothSchemes(page, 'report-file');
    await page.close();
  });

  describe('the live GET /dashboard of npm start', () => {
    it('asks a browser for the token (Basic), shows the report with masked phones, light and dark, without a problem', async () => {
      // Without the token: 401 with a Basic challenge, which makes a browser ask for it (headless Chromium cancels).
      const anonymous = await fetch(`${server.url}/dashboard`);
      expect([anonymous.status, anonymous.headers.get('www-authenticate')]).toEqual([
        401,
        expect.stringMatching(/^Basic realm=/),
      ]);
      const page0 = await browser.newPage();
      await expect(page0.goto(`${server.url}/dashboard`)).rejects.toThrow(/ERR_INVALID_AUTH_CREDENTIALS/);
      await page0.close();

      const page = await browser.newPage({
        width: 1000,
        height: 900,
        basicAuth: { username: 'operator', password: TOKEN },
      });
      await page.goto(`${server.url}/dashboard?timeZone=Asia%2FKolkata&refresh=600`);
      expect(await page.evaluate('document.querySelector(".card .value").textContent')).toBe('40');
      const text = await page.evaluate<string>('document.documentElement.outerHTML');
      expect(text).toContain('+91********');
      expect(text).not.toMatch(/9198765\d{5}/);
      expect(text).toContain('<meta http-equiv="refresh" content="600">');
      await checkBothSchemes(page, 'dashboard');
      await page.close();
    });

    it('reloads itself while webhooks arrive, still authenticated', async () => {
      const page = await browser.newPage({ basicAuth: { username: 'operator', password: TOKEN } });
      await page.goto(`${server.url}/dashboard?refresh=2`);
      const before = Number(await page.evaluate<string>('document.querySelector(".card .value").textContent'));
      await postWebhooks(server, recentTraffic(5, 'late'));
      await page.waitFor(`document.querySelector(".card .value")?.textContent === "${before + 5}"`, 8_000);
      expect(page.problems).toEqual([]);
      await page.close();
    });

    it('answers a bad parameter with a 400 naming it, never a 500', async () => {
      const get = (query: string) =>
        fetch(`${server.url}/dashboard?${query}`, { headers: { 'x-webhook-token': TOKEN } });
      for (const [query, name] of [
        ['from=yesterday', 'from'],
        ['to=2026-13-45', 'to'],
        ['timeZone=Mars%2FOlympus', 'timeZone'],
        ['refresh=1', 'refresh'],
        ['since=24h', 'since'],
      ] as const) {
        const response = await get(query);
        expect([query, response.status]).toEqual([query, 400]);
        expect(((await response.json()) as { error: string }).error).toContain(name);
      }
    });
  });
});
