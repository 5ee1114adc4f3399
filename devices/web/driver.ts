/**
 * Device kind `web`: the Dexie app of app/ in Chromium, driven by Playwright. One browser context
 * per device (tabs of a device share its IndexedDB and service worker), non-persistent contexts in
 * one shared browser, a persistent context (its own browser process, profile under ctx.dataDir)
 * when the device must survive a browser restart.
 *
 *   const dev = createWebDevice({ id: 'web-a', tabs: 2, persistent: true });
 *   await dev.start(ctx); await dev.write(op); await dev.sync('manual'); await dev.stop();
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Browser, type BrowserContext, type CDPSession, chromium, type Page } from 'playwright-core';
import {
  blankSyncOutcome,
  type Device,
  type DeviceContext,
  type EnergyReading,
  type LocalWrite,
  type SyncOutcome,
  type SyncTrigger,
} from '../../protocol/device';
import type {
  AttachFileRequest,
  UploadItem,
  UploadingDevice,
  UploadQueueStatus,
  UploadSummary,
} from '../../protocol/files';
import type { TableRecords } from '../../protocol/records';
import type { SchemaVersion } from '../../protocol/tables';
import { summarizeUploads } from '../common/upload-queue';
import { type DeviceEnergyProfile, EnergyMeter, LAPTOP_WIFI } from '../energy/radio-model';
import type { AppConfig } from './app/engine';
import type { HarnessApi, UploadReport } from './app/main';
import { startWebAppServer, type WebAppServer } from './app-server';
import { buildWebApp } from './build';
import { acquireBrowser, launchOptions, releaseBrowser } from './chromium';

export interface WebDeviceOptions {
  id: string;
  /** Tabs open on start (default 1). */
  tabs?: number;
  /** Keep the profile under ctx.dataDir so a browser restart keeps IndexedDB (default false). */
  persistent?: boolean;
  /**
   * Automatic sync triggers (default true): the leader tab syncs on app launch, reconnect, pokes and
   * periodically, and each write registers a Background Sync. Off, only sync() (and UI saves) sync.
   */
  autoSync?: boolean;
  /** Schema version the app declares (default: ctx.schemaVersion). */
  schemaVersion?: SchemaVersion;
  /** Register a Background Sync after each local write (default: autoSync). */
  backgroundSyncOnWrite?: boolean;
  /** Leader's periodic sync interval in simulated ms (default 15 min, RFC background fetch; 0 = off). */
  backgroundIntervalMs?: number;
  /** Attempts per sync step with RFC backoff (default 3). */
  maxAttempts?: number;
  /** Sync after each UI save (user action trigger; default true). */
  syncOnUserAction?: boolean;
  requestTimeoutMs?: number;
  /** Split a push into contract pushes of at most this many bytes (default: under the 10 MB body limit). */
  pushBatchBytes?: number;
  /** Radio and battery the energy model charges (default a laptop on Wi-Fi). */
  energy?: DeviceEnergyProfile;
}

type Win = { __harness: HarnessApi };

export function createWebDevice(opts: WebDeviceOptions): WebDevice {
  return new WebDevice(opts);
}

/** A page that navigated (reload) or died under an evaluate: the call may be retried on another tab. */
const pageGone = (e: unknown) =>
  /Execution context was destroyed|Target (page, context or browser )?(has been )?closed|navigat|crash/i.test(
    (e as Error).message,
  );

export class WebDevice implements Device, UploadingDevice {
  readonly kind = 'web' as const;
  readonly id: string;
  private ctx!: DeviceContext;
  private server: WebAppServer | null = null;
  private browser: Browser | null = null;
  private context: BrowserContext | null = null;
  private pages: Page[] = [];
  private cdp = new WeakMap<Page, CDPSession>();
  private offline = false;
  private readonly meter: EnergyMeter;
  /** Syncs the app started by itself that the meter charged. */
  private appSyncs = 0;
  /** The upload queue as the page last reported it (the queue itself lives in the leader tab). */
  private uploadReport: UploadReport | undefined;

  constructor(readonly opts: WebDeviceOptions) {
    this.id = opts.id;
    this.meter = new EnergyMeter(opts.energy ?? LAPTOP_WIFI);
  }

  get url(): string {
    if (!this.server) throw new Error(`web device ${this.id} is not started`);
    return this.server.url;
  }
  /** The device's app server: push log, API gate, test hooks. */
  get appServer(): WebAppServer {
    if (!this.server) throw new Error(`web device ${this.id} is not started`);
    return this.server;
  }
  get tabs(): readonly Page[] {
    return this.pages;
  }
  get browserContext(): BrowserContext {
    if (!this.context) throw new Error(`web device ${this.id} has no browser context`);
    return this.context;
  }

  private appConfig(): AppConfig {
    const o = this.opts;
    return {
      deviceId: this.ctx.deviceId,
      userId: this.ctx.userId,
      schemaVersion: o.schemaVersion ?? this.ctx.schemaVersion,
      timeScale: this.ctx.clock.timeScale,
      maxAttempts: o.maxAttempts ?? 3,
      backgroundIntervalMs: o.backgroundIntervalMs ?? 15 * 60_000,
      syncOnUserAction: o.syncOnUserAction ?? true,
      autoTriggers: o.autoSync ?? true,
      backgroundSyncOnWrite: o.backgroundSyncOnWrite ?? o.autoSync ?? true,
      requestTimeoutMs: o.requestTimeoutMs ?? 15_000,
      ...(o.pushBatchBytes ? { pushBatchBytes: o.pushBatchBytes } : {}),
    };
  }

  async start(ctx: DeviceContext): Promise<void> {
    this.ctx = ctx;
    this.meter.begin(ctx.clock.now());
    const dist = await buildWebApp();
    const portFile = join(ctx.dataDir, 'web-origin-port');
    let port: number | undefined;
    if (this.opts.persistent) {
      await mkdir(ctx.dataDir, { recursive: true });
      port = Number(await readFile(portFile, 'utf8').catch(() => '')) || undefined;
    }
    this.server = await startWebAppServer({
      distDir: dist,
      upstream: ctx.serverUrl,
      config: this.appConfig(),
      getToken: (o) => ctx.getToken(o),
      port,
    });
    // The syncs the app starts by itself (its triggers, the service worker's background sync) are
    // metered from the page's report; the ones this driver runs are metered in sync() with CPU time.
    this.server.onEvent('upload-status', (e) => this.noteUploads(e as unknown as UploadReport));
    this.server.onEvent('sync-meter', (e) => {
      if (e.origin === 'harness') return;
      const durationMs = Number(e.durationMs) || 0;
      this.appSyncs++;
      this.meter.record({
        // The report comes as the sync ends; the run clock moves timeScale × faster than the page's.
        startedAt: ctx.clock.now() - durationMs * ctx.clock.timeScale,
        durationMs,
        bytesUp: Number(e.bytesUp) || 0,
        bytesDown: Number(e.bytesDown) || 0,
      });
    });
    if (this.opts.persistent) {
      if (port && port !== this.server.port)
        ctx.log(`web ${this.id}: origin port ${port} was taken; IndexedDB starts empty`);
      await writeFile(portFile, String(this.server.port));
    }
    await this.openContext();
  }

  private async openContext() {
    if (this.opts.persistent) {
      this.context = await chromium.launchPersistentContext(join(this.ctx.dataDir, 'chromium-profile'), {
        ...launchOptions(),
        serviceWorkers: 'allow',
      });
      // A persistent context opens with one blank page; it is not an app tab.
      for (const p of this.context.pages()) await p.close();
    } else {
      this.browser = await acquireBrowser();
      this.context = await this.browser.newContext({ serviceWorkers: 'allow' });
    }
    if (this.offline) await this.context.setOffline(true);
    for (let i = 0; i < (this.opts.tabs ?? 1); i++) await this.openTab();
  }

  /** Opens one more app tab and waits until its test API is ready. `passive` tabs never lead. */
  async openTab(passive = false): Promise<Page> {
    const page = await this.browserContext.newPage();
    page.on('pageerror', (e) => this.ctx.log(`web ${this.id}: page error: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'warning' || m.type() === 'error') this.ctx.log(`web ${this.id}: ${m.text()}`);
    });
    page.on('close', () => {
      this.pages = this.pages.filter((p) => p !== page);
    });
    await page.goto(this.url + (passive ? '/#passive' : '/'));
    await this.waitReady(page);
    this.pages.push(page);
    return page;
  }

  private async waitReady(page: Page): Promise<void> {
    await page.waitForFunction(
      () => (window as unknown as Win).__harness?.ready === true || !!document.body.dataset.error,
      null,
      {
        timeout: 20_000,
      },
    );
    const err = await page.evaluate(() => document.body.dataset.error);
    if (err) throw new Error(`web ${this.id}: app failed to start: ${err}`);
  }

  /**
   * Reloads a tab (F5), by default the one running the upload queue: an upload in flight is cut
   * mid-body, and the reloaded app resumes the persisted queue.
   */
  async reload(tab?: number): Promise<void> {
    const page = tab === undefined ? await this.uploadTab() : this.pages[tab];
    if (!page) throw new Error(`web ${this.id}: no tab ${tab}`);
    await page.reload();
    await this.waitReady(page);
    if (this.uploadReport) await this.refreshUploads();
  }

  // ------------------------------------------------------------------------------------ uploads

  private noteUploads(r: UploadReport | null | undefined) {
    if (r?.status && (!this.uploadReport || r.seq >= this.uploadReport.seq)) this.uploadReport = r;
  }

  /** The tab that runs the upload queue (the leader); opens one when none is open. */
  private async uploadTab(): Promise<Page> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (!this.context) throw new Error(`web ${this.id} is not running (stopped or killed); restart() it first`);
      if (!this.pages.some((p) => !p.url().includes('#passive'))) await this.openTab();
      for (const p of this.pages) {
        const ready = await p.evaluate(() => (window as unknown as Win).__harness.uploadsReady()).catch(() => false);
        if (ready) return p;
      }
      if (Date.now() > deadline) throw new Error(`web ${this.id}: no tab took over the upload queue in 30 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Runs `fn` on the upload tab; a tab reloaded or lost under it hands the call to the next one. */
  private async onUploadTab<T>(fn: (page: Page) => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const page = await this.uploadTab();
      try {
        return await fn(page);
      } catch (e) {
        if (!pageGone(e) || attempt >= 20) throw e;
      }
    }
  }

  private async refreshUploads(): Promise<void> {
    this.noteUploads(
      await this.onUploadTab((p) => p.evaluate(() => (window as unknown as Win).__harness.uploadStatus())),
    );
  }

  async attachFile(file: AttachFileRequest): Promise<UploadItem> {
    const arg = {
      table: file.table,
      recordId: file.recordId,
      fileName: file.fileName,
      contentType: file.contentType,
      bytesBase64: Buffer.from(file.bytes).toString('base64'),
    };
    const page = await this.uploadTab();
    const { item, report } = await page.evaluate((f) => (window as unknown as Win).__harness.attachFile(f), arg);
    this.noteUploads(report);
    return item;
  }

  /**
   * Resolves when the queue is drained or every remaining item failed (or waits for a sync). A
   * reload under it does not end the wait: the reloaded app resumes the queue, and so does this.
   */
  async uploadsSettled(): Promise<void> {
    // Nothing was ever queued, or the last report said drained: no tab needs opening to say so (the
    // harness asks every device at quiescence, and a new tab would be a launch, with its syncs).
    if (!this.uploadReport || this.uploadReport.status.pending === 0) return;
    this.noteUploads(
      await this.onUploadTab((p) => p.evaluate(() => (window as unknown as Win).__harness.uploadsSettled())),
    );
  }

  async retryFailedUploads(): Promise<number> {
    const { n, report } = await this.onUploadTab((p) =>
      p.evaluate(() => (window as unknown as Win).__harness.retryFailedUploads()),
    );
    this.noteUploads(report);
    return n;
  }

  uploadStatus(): UploadQueueStatus | undefined {
    return this.uploadReport?.status;
  }

  uploadSummary(): UploadSummary | undefined {
    return summarizeUploads(this.uploadStatus());
  }

  /** Waits until the service worker controls the origin (background sync needs it active). */
  async serviceWorkerReady(): Promise<void> {
    const page = await this.anyPage();
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
  }

  private async anyPage(): Promise<Page> {
    return this.pages[0] ?? (await this.openTab(true));
  }

  private async page(tab?: number): Promise<Page> {
    return (tab === undefined ? undefined : this.pages[tab]) ?? (await this.anyPage());
  }

  async write(op: LocalWrite, tab = 0): Promise<void> {
    const page = await this.page(tab);
    await page.evaluate((o) => (window as unknown as Win).__harness.write(o), op);
  }

  async sync(trigger: SyncTrigger, tab = 0): Promise<SyncOutcome> {
    const started = Date.now();
    const startedAt = this.ctx.clock.now();
    try {
      const page = await this.page(tab);
      const cpu0 = await this.taskSeconds(page);
      const out = await page.evaluate((t) => (window as unknown as Win).__harness.sync(t), trigger);
      const cpu1 = await this.taskSeconds(page);
      this.meter.record({
        startedAt,
        durationMs: out.durationMs,
        bytesUp: out.bytesUp,
        bytesDown: out.bytesDown,
        ...(cpu0 !== undefined && cpu1 !== undefined ? { cpuMs: (cpu1 - cpu0) * 1000 } : {}),
      });
      return out;
    } catch (e) {
      // The tab died under the sync: whether its push applied is unknown until the next sync.
      return blankSyncOutcome(trigger, {
        durationMs: Date.now() - started,
        attempts: 1,
        indeterminate: true,
        error: (e as Error).message.split('\n')[0],
      });
    }
  }

  async snapshot(): Promise<TableRecords> {
    return (await this.page()).evaluate(() => (window as unknown as Win).__harness.snapshot());
  }

  async pendingChanges(): Promise<number> {
    return (await this.page()).evaluate(() => (window as unknown as Win).__harness.pending());
  }

  async status(tab = 0) {
    return (await this.page(tab)).evaluate(() => (window as unknown as Win).__harness.status());
  }

  /**
   * The laptop's radio and CPU for every sync: the ones this driver ran (sync(), with the page's CPU
   * time) and the ones the app started by itself (triggers, service worker; radio only, CPU as the
   * sync's active time).
   */
  energy(): EnergyReading {
    const r = this.meter.reading();
    return { ...r, details: { ...r.details, appStartedSyncs: this.appSyncs } };
  }

  /** The renderer main thread's busy time so far (CDP TaskDuration, s): the page's CPU time. */
  private async taskSeconds(page: Page): Promise<number | undefined> {
    try {
      const { metrics } = await (await this.session(page)).send('Performance.getMetrics');
      return metrics.find((m) => m.name === 'TaskDuration')?.value;
    } catch {
      return undefined;
    }
  }

  setClockOffset(ms: number): void {
    void this.page().then((p) => p.evaluate((m) => (window as unknown as Win).__harness.setClockOffset(m), ms));
  }

  /** Offline for page and service worker (context emulation) and at the device's network edge. */
  async setOffline(offline: boolean): Promise<void> {
    this.offline = offline;
    this.appServer.setApiBlocked(offline);
    await this.context?.setOffline(offline);
  }

  private async session(page: Page): Promise<CDPSession> {
    let s = this.cdp.get(page);
    if (!s) {
      s = await this.browserContext.newCDPSession(page);
      await s.send('Performance.enable');
      this.cdp.set(page, s);
    }
    return s;
  }

  /**
   * JS heap the device's tabs hold, summed: used heap after a full collection (CDP
   * HeapProfiler.collectGarbage, then Performance.getMetrics JSHeapUsedSize), as the phone samples
   * its worker. JSHeapTotalSize, read before, is the heap V8 has reserved, garbage not yet collected
   * included: partial-sync-resume measured 54 MB of it where the tab held 4 MB.
   */
  async memoryBytes(): Promise<number> {
    let total = 0;
    for (const page of this.pages) {
      const s = await this.session(page);
      await s.send('HeapProfiler.collectGarbage');
      const { metrics } = await s.send('Performance.getMetrics');
      total += metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? 0;
    }
    return total;
  }

  /** Closes a tab the way a user does (no unload handlers): its Web Locks pass on. */
  async closeTab(tab: number): Promise<void> {
    await this.pages[tab]?.close({ runBeforeUnload: false });
  }

  /**
   * Crashes a tab's renderer (CDP Page.crash). Same-site tabs of a device usually share one
   * renderer process, so they crash together, like a real renderer crash; to end a single tab
   * abruptly use closeTab().
   */
  async crashTab(tab: number): Promise<void> {
    const page = this.pages[tab];
    if (!page) return;
    const s = await this.browserContext.newCDPSession(page);
    await Promise.race([s.send('Page.crash').catch(() => {}), new Promise((r) => setTimeout(r, 1_000))]);
    const crashed = this.pages.filter((p) => p.isClosed() === false);
    for (const p of crashed) {
      const dead = await Promise.race([
        p.evaluate(() => false).catch(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(true), 1_000)),
      ]);
      if (dead || p === page) await Promise.race([p.close().catch(() => {}), new Promise((r) => setTimeout(r, 2_000))]);
    }
    this.pages = this.pages.filter((p) => !p.isClosed());
  }

  async closeAllTabs(): Promise<void> {
    for (const p of [...this.pages]) await p.close({ runBeforeUnload: false }).catch(() => {});
  }

  /**
   * Fires the service worker's Background Sync (CDP ServiceWorker.dispatchSyncEvent), as Chromium
   * does on reconnect, from a blank page of the context so that no app page needs to be open.
   * Resolves when the service worker reported the sync finished (or after `timeoutMs`).
   */
  async dispatchBackgroundSync(timeoutMs = 20_000): Promise<{ ok: boolean; error?: string } | null> {
    const blank = await this.browserContext.newPage();
    try {
      const s = await this.browserContext.newCDPSession(blank);
      const regs = new Map<string, string>();
      s.on('ServiceWorker.workerRegistrationUpdated', (e) => {
        for (const r of e.registrations) if (!r.isDeleted) regs.set(r.scopeURL, r.registrationId);
      });
      await s.send('ServiceWorker.enable');
      const scope = `${this.url}/`;
      const deadline = Date.now() + 5_000;
      while (!regs.has(scope) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const registrationId = regs.get(scope);
      if (!registrationId) throw new Error(`web ${this.id}: no service worker registered for ${scope}`);
      const done = this.appServer.nextEvent('background-sync', timeoutMs);
      await s.send('ServiceWorker.dispatchSyncEvent', {
        origin: this.url,
        registrationId,
        tag: 'outbox',
        lastChance: false,
      });
      return (await done) as { ok: boolean; error?: string } | null;
    } finally {
      await blank.close().catch(() => {});
    }
  }

  /** Kills the device abruptly: SIGKILL of its browser (persistent) or a crash of every tab. */
  async kill(): Promise<void> {
    if (this.opts.persistent) {
      const pid = browserPidFor(join(this.ctx.dataDir, 'chromium-profile'));
      if (pid) process.kill(pid, 'SIGKILL');
      await this.context?.close().catch(() => {});
      this.context = null;
      this.pages = [];
    } else {
      for (let i = this.pages.length - 1; i >= 0; i--) await this.crashTab(i);
    }
  }

  /** Browser restart for persistent devices (same profile, same origin); app restart otherwise. */
  async restart(): Promise<void> {
    if (this.opts.persistent) {
      await this.context?.close().catch(() => {});
      this.context = null;
      this.pages = [];
      await this.openContext();
    } else {
      await this.closeAllTabs();
      for (let i = 0; i < (this.opts.tabs ?? 1); i++) await this.openTab();
    }
    // What the relaunched app found in its persisted queue.
    if (this.uploadReport) await this.refreshUploads();
  }

  async screenshot(path: string, tab = 0): Promise<void> {
    await (await this.page(tab)).screenshot({ path, fullPage: true });
  }

  async stop(): Promise<void> {
    const ctx = this.context;
    this.context = null;
    this.pages = [];
    await ctx?.close().catch(() => {});
    if (this.browser) {
      this.browser = null;
      await releaseBrowser();
    }
    await this.server?.close();
    this.server = null;
  }
}

/** The main Chromium process using `profile` (persistent contexts are separate processes). */
function browserPidFor(profile: string): number | null {
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      if (cmd.some((a) => a === `--user-data-dir=${profile}`) && !cmd.some((a) => a.startsWith('--type=')))
        return Number(d);
    } catch {
      /* process gone */
    }
  }
  return null;
}
