/**
 * Screenshots of a report with Debian's Chromium through playwright-core (for reviewing the HTML and
 * for reports/docs/report-screenshot.png). Usage:
 *   npx tsx reports/testing/screenshot.ts <run-dir> <out.png> [width] [--full] [--dark] [--hash=op-12]
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-dev-shm-usage',
  // The report must need no network: make any outside lookup fail loudly.
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1',
];

export async function screenshot(
  file: string,
  out: string,
  o: { width?: number; height?: number; fullPage?: boolean; dark?: boolean; hash?: string } = {},
) {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
  });
  try {
    const page = await browser.newPage({
      viewport: { width: o.width ?? 1280, height: o.height ?? 900 },
      colorScheme: o.dark ? 'dark' : 'light',
      deviceScaleFactor: 1,
    });
    const requests: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith('file:')) requests.push(r.url());
    });
    await page.goto(pathToFileURL(resolve(file)).href + (o.hash ? `#${o.hash}` : ''));
    await page.waitForLoadState('load');
    await page.screenshot({ path: out, fullPage: o.fullPage ?? false });
    return { requests };
  } finally {
    await browser.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [dir, out, width] = process.argv.slice(2);
  const flags = process.argv.slice(2);
  const hash = flags.find((f) => f.startsWith('--hash='))?.slice(7);
  const { requests } = await screenshot(`${dir}/index.html`, out ?? 'report.png', {
    width: width && /^\d+$/.test(width) ? Number(width) : 1280,
    fullPage: flags.includes('--full'),
    dark: flags.includes('--dark'),
    hash,
  });
  console.log(`wrote ${out}; non-file requests: ${requests.length ? requests.join(', ') : 'none'}`);
}
