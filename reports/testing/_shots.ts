import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS } from './screenshot';

const [file, prefix, w, dark] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
const page = await browser.newPage({
  viewport: { width: Number(w ?? 1280), height: 1000 },
  colorScheme: dark ? 'dark' : 'light',
});
await page.goto('file://' + file);
const h = await page.evaluate(() => document.documentElement.scrollHeight);
let i = 0;
for (let y = 0; y < h && i < 12; y += 1300, i++) {
  await page.screenshot({
    path: `${prefix}-${i}.png`,
    fullPage: true,
    clip: { x: 0, y, width: Number(w ?? 1280), height: Math.min(1300, h - y) },
  });
}
console.log('height', h, 'shots', i);
await browser.close();
