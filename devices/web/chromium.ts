/**
 * The Chromium the web devices run in: one shared browser for all non-persistent devices
 * (reference-counted, closed when the last device releases it), and the launch options for
 * persistent contexts (their own browser process, because a persistent profile is a browser).
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { HarnessError } from '../../protocol/harness-error';

export const CHROMIUM_PATH = process.env.HARNESS_CHROMIUM ?? '/usr/bin/chromium';

/** Flags for running as root in a container without outside DNS (dependency-notes.md). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1',
  // Headless Chromium 156 gives every context a window whose omnibox popup is a preloaded WebUI
  // renderer (~45 MB PSS per context). A device needs no omnibox. Chromium may keep only the last
  // --disable-features, so Playwright's startup-network ones are repeated here.
  `--disable-features=${[
    'WebUIOmniboxPopup',
    'WebUIOmniboxAimPopup',
    'PreloadTopChromeWebUI',
    'ThirdPartyStoragePartitioning',
    'OptimizationHints',
    'NetworkTimeServiceQuerying',
    'AimEnabled',
    'PreconnectToSearch',
  ].join(',')}`,
];

export function chromiumExecutable(): string {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new HarnessError(
      'HRN_ERR_DEVICE',
      `Chromium is not installed at ${CHROMIUM_PATH}; web devices need it.`,
      'Install it with `apt-get install -y chromium` (or run `make setup`), or set HARNESS_CHROMIUM to a Chromium binary.',
    );
  }
  return CHROMIUM_PATH;
}

export const launchOptions = () => ({ executablePath: chromiumExecutable(), args: CHROMIUM_ARGS, headless: true });

let shared: Promise<Browser> | null = null;
let users = 0;

/** Takes a reference on the shared browser, launching it on first use. */
export async function acquireBrowser(): Promise<Browser> {
  users++;
  if (!shared) {
    shared = chromium.launch(launchOptions());
    shared.catch(() => {
      shared = null;
    });
  }
  try {
    return await shared;
  } catch (e) {
    users--;
    throw e;
  }
}

/** Drops a reference; the browser closes with the last one. */
export async function releaseBrowser(): Promise<void> {
  users = Math.max(0, users - 1);
  if (users === 0) await closeSharedBrowser();
}

/** Closes the shared browser whatever its references (test teardown, process exit). */
export async function closeSharedBrowser(): Promise<void> {
  const b = shared;
  shared = null;
  users = 0;
  if (b) await (await b.catch(() => null))?.close().catch(() => {});
}
