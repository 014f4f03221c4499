import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';

/**
 * Headless Chromium driven over the DevTools protocol (the `ws` package, no browser-automation dependency): open a
 * page, collect everything that went wrong on it (console errors, uncaught exceptions, browser log errors such as a
 * Content-Security-Policy refusal, failed requests, HTTP errors), evaluate expressions, switch light and dark, and
 * take full-page screenshots.
 *
 *   const browser = await HeadlessChromium.launch();
 *   const page = await browser.newPage({ colorScheme: 'dark', basicAuth: { username: 'me', password: token } });
 *   await page.goto(url);
 *   expect(page.problems).toEqual([]);
 *   await page.screenshot('artifacts/screenshots/report-dark.png');
 *   await browser.close();
 */

/** The browser binary: CHROMIUM_BIN (when it exists), else the first of chromium, chromium-browser, google-chrome on PATH. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.CHROMIUM_BIN) return existsSync(env.CHROMIUM_BIN) ? env.CHROMIUM_BIN : undefined;
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    try {
      return (
        execFileSync('sh', ['-c', `command -v ${name}`], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'ignore'],
        }).trim() || undefined
      );
    } catch {
      // not on PATH: try the next name
    }
  }
  return undefined;
}

export type ColorScheme = 'light' | 'dark';

/** Something that went wrong on a page. */
export interface PageProblem {
  kind: 'console-error' | 'exception' | 'browser-log' | 'request-failed' | 'http-error';
  text: string;
}

export interface NewPageOptions {
  /** The emulated `prefers-color-scheme`. @default 'light' */
  colorScheme?: ColorScheme;
  /** Viewport in CSS pixels. @default 1000 x 800 */
  width?: number;
  height?: number;
  /** Answers HTTP Basic challenges (401 with WWW-Authenticate) as a user typing into the browser's prompt would. */
  basicAuth?: { username: string; password: string };
}

type Params = Record<string, unknown>;
type Listener = (params: any) => void;

/** One DevTools connection: commands with ids, events by session and method. */
class DevToolsConnection {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (v: any) => void; reject: (e: Error) => void; method: string }
  >();
  private readonly listeners = new Map<string, Set<Listener>>();

  constructor(private readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const message = JSON.parse(data.toString()) as {
        id?: number;
        result?: unknown;
        error?: { message: string };
        method?: string;
        params?: unknown;
        sessionId?: string;
      };
      if (message.id !== undefined) {
        const call = this.pending.get(message.id);
        this.pending.delete(message.id);
        if (message.error) call?.reject(new Error(`${call.method}: ${message.error.message}`));
        else call?.resolve(message.result);
      } else if (message.method) {
        for (const listener of this.listeners.get(`${message.sessionId ?? ''}/${message.method}`) ?? [])
          listener(message.params);
      }
    });
    socket.on('close', () => {
      for (const call of this.pending.values())
        call.reject(new Error(`${call.method}: the browser closed the connection`));
      this.pending.clear();
    });
  }

  static async open(url: string): Promise<DevToolsConnection> {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return new DevToolsConnection(socket);
  }

  send<T = any>(method: string, params: Params = {}, sessionId?: string): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, method });
      this.socket.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    });
  }

  on(sessionId: string, method: string, listener: Listener): () => void {
    const key = `${sessionId}/${method}`;
    const set = this.listeners.get(key) ?? new Set();
    set.add(listener);
    this.listeners.set(key, set);
    return () => set.delete(listener);
  }

  close(): void {
    this.socket.close();
  }
}

/** A tab: its problems, navigation, evaluation, color scheme and screenshots. */
export class BrowserPage {
  /** Everything that went wrong since the page was opened (cleared only by `clearProblems`). */
  readonly problems: PageProblem[] = [];
  private readonly urls = new Map<string, string>();

  constructor(
    private readonly cdp: DevToolsConnection,
    private readonly targetId: string,
    private readonly sessionId: string,
    private readonly viewport: { width: number; height: number },
  ) {}

  /** @internal HeadlessChromium.newPage's set-up: listeners first, then the domains that emit into them. */
  async init(options: NewPageOptions): Promise<void> {
    const on = (method: string, listener: Listener) => this.cdp.on(this.sessionId, method, listener);
    const problem = (kind: PageProblem['kind'], text: string) => this.problems.push({ kind, text });
    on('Runtime.consoleAPICalled', (p: { type: string; args: { value?: unknown; description?: string }[] }) => {
      if (p.type === 'error' || p.type === 'assert')
        problem('console-error', p.args.map((a) => a.description ?? String(a.value)).join(' '));
    });
    on('Runtime.exceptionThrown', (p: { exceptionDetails: { text: string; exception?: { description?: string } } }) =>
      problem('exception', p.exceptionDetails.exception?.description ?? p.exceptionDetails.text),
    );
    on('Log.entryAdded', (p: { entry: { level: string; text: string; url?: string } }) => {
      if (p.entry.level === 'error') problem('browser-log', `${p.entry.text}${p.entry.url ? ` (${p.entry.url})` : ''}`);
    });
    on('Network.requestWillBeSent', (p: { requestId: string; request: { url: string } }) =>
      this.urls.set(p.requestId, p.request.url),
    );
    on('Network.loadingFailed', (p: { requestId: string; errorText: string; blockedReason?: string }) =>
      problem(
        'request-failed',
        `${this.urls.get(p.requestId) ?? p.requestId}: ${p.errorText}${p.blockedReason ? ` (blocked: ${p.blockedReason})` : ''}`,
      ),
    );
    on('Network.responseReceived', (p: { response: { url: string; status: number } }) => {
      if (p.response.status >= 400) problem('http-error', `${p.response.url}: HTTP ${p.response.status}`);
    });
    if (options.basicAuth) {
      const credentials = options.basicAuth;
      // Fetch pauses every request; each goes on unchanged, and a Basic challenge is answered like a login prompt.
      on(
        'Fetch.requestPaused',
        (p: { requestId: string }) =>
          void this.send('Fetch.continueRequest', { requestId: p.requestId }).catch(() => undefined),
      );
      on('Fetch.authRequired', (p: { requestId: string; authChallenge: { scheme: string } }) => {
        const response =
          p.authChallenge.scheme.toLowerCase() === 'basic'
            ? { response: 'ProvideCredentials', ...credentials }
            : { response: 'CancelAuth' };
        void this.send('Fetch.continueWithAuth', { requestId: p.requestId, authChallengeResponse: response }).catch(
          () => undefined,
        );
      });
      await this.send('Fetch.enable', { handleAuthRequests: true });
    }
    await Promise.all(['Page.enable', 'Runtime.enable', 'Log.enable', 'Network.enable'].map((m) => this.send(m)));
    await this.send('Emulation.setDeviceMetricsOverride', { ...this.viewport, deviceScaleFactor: 1, mobile: false });
    await this.setColorScheme(options.colorScheme ?? 'light');
  }

  private send<T = any>(method: string, params: Params = {}): Promise<T> {
    return this.cdp.send<T>(method, params, this.sessionId);
  }

  /** Loads `url` and waits for its load event; throws when the navigation itself fails (refused, DNS, ...). */
  async goto(url: string, timeoutMs = 15_000): Promise<void> {
    let off = () => {};
    let timer: NodeJS.Timeout | undefined;
    const loaded = new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`${url} did not load within ${timeoutMs} ms`)), timeoutMs);
      off = this.cdp.on(this.sessionId, 'Page.loadEventFired', () => resolve());
    });
    loaded.catch(() => undefined); // awaited below unless the navigation fails first
    try {
      const result = await this.send<{ errorText?: string }>('Page.navigate', { url });
      if (result.errorText) throw new Error(`navigating to ${url} failed: ${result.errorText}`);
      await loaded;
    } finally {
      clearTimeout(timer);
      off();
    }
  }

  /** The value of a JavaScript expression in the page (awaited when it is a promise); throws what it throws. */
  async evaluate<T>(expression: string): Promise<T> {
    const result = await this.send<{
      result: { value?: T };
      exceptionDetails?: { text: string; exception?: { description?: string } };
    }>('Runtime.evaluate', {
      expression,
      returnByValue: true,
      awaitPromise: true,
    });
    if (result.exceptionDetails)
      throw new Error(
        `evaluate failed: ${result.exceptionDetails.exception?.description ?? result.exceptionDetails.text}`,
      );
    return result.result.value as T;
  }

  /** Polls `expression` until it is truthy (errors while the page reloads count as not yet); returns its value. */
  async waitFor<T>(expression: string, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
      try {
        const value = await this.evaluate<T>(expression);
        if (value) return value;
        last = value;
      } catch (error) {
        last = error;
      }
      if (Date.now() > deadline)
        throw new Error(
          `waited ${timeoutMs} ms for ${expression}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Emulates `prefers-color-scheme` (the page restyles at once; no reload). */
  async setColorScheme(scheme: ColorScheme): Promise<void> {
    await this.send('Emulation.setEmulatedMedia', { features: [{ name: 'prefers-color-scheme', value: scheme }] });
  }

  /** A PNG of the whole page (beyond the viewport), written to `file` (its folder is created). */
  async screenshot(file: string): Promise<void> {
    const { cssContentSize } = await this.send<{ cssContentSize: { width: number; height: number } }>(
      'Page.getLayoutMetrics',
    );
    const clip = {
      x: 0,
      y: 0,
      width: Math.max(this.viewport.width, Math.ceil(cssContentSize.width)),
      height: Math.ceil(cssContentSize.height),
      scale: 1,
    };
    const { data } = await this.send<{ data: string }>('Page.captureScreenshot', {
      format: 'png',
      captureBeyondViewport: true,
      clip,
    });
    await mkdir(path.dirname(file), { recursive: true });
    writeFileSync(file, Buffer.from(data, 'base64'));
  }

  clearProblems(): void {
    this.problems.length = 0;
  }

  async close(): Promise<void> {
    await this.cdp.send('Target.closeTarget', { targetId: this.targetId }).catch(() => undefined);
  }
}

/** One headless Chromium process with its own throwaway profile. */
export class HeadlessChromium {
  private constructor(
    private readonly child: ChildProcess,
    private readonly cdp: DevToolsConnection,
    private readonly profileDir: string,
  ) {}

  /**
   * Starts the browser (headless, no sandbox: tests run as root in CI; no first-run, sync, component updates or
   * background networking, so the only requests are the pages') and connects to it. Throws with its output when it
   * does not start within `timeoutMs`.
   */
  static async launch(options: { bin?: string; timeoutMs?: number } = {}): Promise<HeadlessChromium> {
    const bin = options.bin ?? findChromium();
    if (!bin) throw new Error('Chromium not found: apt-get install chromium, or set CHROMIUM_BIN');
    const profileDir = mkdtempSync(path.join(tmpdir(), 'chromium-profile-'));
    const child = spawn(
      bin,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--remote-debugging-port=0',
        `--user-data-dir=${profileDir}`,
        '--no-first-run',
        '--no-default-browser-check',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-extensions',
        '--hide-scrollbars',
        '--mute-audio',
        'about:blank',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let output = '';
    const timeoutMs = options.timeoutMs ?? 20_000;
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`Chromium did not start within ${timeoutMs} ms:\n${output}`)),
          timeoutMs,
        );
        child.stderr?.on('data', (d: Buffer) => {
          output += d.toString();
          const match = /DevTools listening on (ws:\/\/\S+)/.exec(output);
          if (match?.[1]) {
            clearTimeout(timer);
            resolve(match[1]);
          }
        });
        child.once('error', (error) => {
          clearTimeout(timer);
          reject(error);
        });
        child.once('exit', (code, signal) => {
          clearTimeout(timer);
          reject(new Error(`Chromium exited (${code ?? signal}) before listening:\n${output}`));
        });
      });
      child.removeAllListeners('exit');
      return new HeadlessChromium(child, await DevToolsConnection.open(url), profileDir);
    } catch (error) {
      child.kill('SIGKILL');
      rmSync(profileDir, { recursive: true, force: true });
      throw error;
    }
  }

  /** A new tab (about:blank) with problem collection on, the viewport and color scheme set. */
  async newPage(options: NewPageOptions = {}): Promise<BrowserPage> {
    const { targetId } = await this.cdp.send<{ targetId: string }>('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await this.cdp.send<{ sessionId: string }>('Target.attachToTarget', {
      targetId,
      flatten: true,
    });
    const page = new BrowserPage(this.cdp, targetId, sessionId, {
      width: options.width ?? 1000,
      height: options.height ?? 800,
    });
    await page.init(options);
    return page;
  }

  /** Closes the browser (Browser.close, SIGKILL after 5 s) and removes its profile. */
  async close(): Promise<void> {
    const exited = new Promise<void>((resolve) =>
      this.child.exitCode !== null || this.child.signalCode !== null
        ? resolve()
        : this.child.once('exit', () => resolve()),
    );
    await this.cdp.send('Browser.close').catch(() => undefined);
    this.cdp.close();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
    rmSync(this.profileDir, { recursive: true, force: true });
  }
}
