/**
 * Screenshots of a report with Debian's Chromium through playwright-core, for reviewing the HTML and
 * for reports/docs/report-screenshot.png. Usage:
 *   npx tsx reports/testing/screenshot.ts <run-dir> <out.png> [--width=1280] [--height=900] [--full] [--dark] [--hash=op-12]
 *   npx tsx reports/testing/screenshot.ts <run-dir> <prefix> --segments   (prefix-0.png, prefix-1.png, … of the whole page)
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
  // The report must need no network: make any outside lookup fail.
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1',
];

export interface ShotOptions {
  width?: number;
  height?: number;
  fullPage?: boolean;
  dark?: boolean;
  hash?: string;
  /** Write the whole page as consecutive viewport-sized images `${out}-N.png`. */
  segments?: boolean;
}

/** Returns the URLs of any non-file requests the page made (there must be none). */
export async function screenshot(
  file: string,
  out: string,
  o: ShotOptions = {},
): Promise<{ requests: string[]; files: string[] }> {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
  });
  try {
    const width = o.width ?? 1280;
    const height = o.height ?? 900;
    const page = await browser.newPage({ viewport: { width, height }, colorScheme: o.dark ? 'dark' : 'light' });
    const requests: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith('file:')) requests.push(r.url());
    });
    await page.goto(pathToFileURL(resolve(file)).href + (o.hash ? `#${o.hash}` : ''));
    await page.waitForLoadState('load');
    const files: string[] = [];
    if (o.segments) {
      const total = await page.evaluate(() => document.documentElement.scrollHeight);
      for (let y = 0, i = 0; y < total; y += height, i++) {
        const path = `${out}-${i}.png`;
        await page.screenshot({ path, fullPage: true, clip: { x: 0, y, width, height: Math.min(height, total - y) } });
        files.push(path);
      }
    } else {
      await page.screenshot({ path: out, fullPage: o.fullPage ?? false });
      files.push(out);
    }
    return { requests, files };
  } finally {
    await browser.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [dir, out] = process.argv.slice(2);
  const flag = (name: string) => process.argv.find((f) => f.startsWith(`--${name}=`))?.split('=')[1];
  const { requests, files } = await screenshot(`${dir}/index.html`, out ?? 'report.png', {
    width: Number(flag('width') ?? 1280),
    height: Number(flag('height') ?? 900),
    fullPage: process.argv.includes('--full'),
    dark: process.argv.includes('--dark'),
    segments: process.argv.includes('--segments'),
    hash: flag('hash'),
  });
  console.log(`wrote ${files.join(', ')}; non-file requests: ${requests.length ? requests.join(', ') : 'none'}`);
}
