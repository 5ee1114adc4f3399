/** Device kind `web` (see driver.ts): the runner's entry point. */

export type { PushLogEntry, WebAppServer } from './app-server';
export { acquireBrowser, chromiumExecutable, closeSharedBrowser, releaseBrowser } from './chromium';
export { createWebDevice, WebDevice, type WebDeviceOptions } from './driver';
