/**
 * Test double of `detox/internals` (the hardware boundary only): records every call, and its
 * `device.launchApp` starts what a real device would run, the app-side bridge with the simulated
 * phone, connected with the launch arguments it was given. Everything on the harness side is real.
 */
import { appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type SimulatedApp, startSimulatedApp } from '../../bridge/sim-app';

export interface FakeCall {
  method: string;
  args: unknown[];
}

export const calls: FakeCall[] = [];
const dirs = new Map<string, string>();
let app: SimulatedApp | undefined;

function record(method: string, ...args: unknown[]) {
  calls.push({ method, args: JSON.parse(JSON.stringify(args)) });
  if (process.env.FAKE_DETOX_LOG) appendFileSync(process.env.FAKE_DETOX_LOG, `${JSON.stringify({ method, args })}\n`);
}

const device = {
  id: 'emulator-5554',
  async launchApp(p: { newInstance?: boolean; launchArgs?: Record<string, string> } = {}) {
    record('device.launchApp', p);
    if (app && p.newInstance === false) return;
    await app?.stop();
    const a = p.launchArgs ?? {};
    let dir = dirs.get(a.harnessSession);
    if (!dir) {
      dir = mkdtempSync(join(tmpdir(), 'fake-detox-app-'));
      dirs.set(a.harnessSession, dir);
    }
    app = await startSimulatedApp({ bridgeUrl: a.harnessBridgeUrl, session: a.harnessSession, dataDir: dir });
  },
  async terminateApp() {
    record('device.terminateApp');
    await app?.kill();
    app = undefined;
  },
  async sendToHome() {
    record('device.sendToHome');
  },
  async setURLBlacklist(patterns: string[]) {
    record('device.setURLBlacklist', patterns);
  },
};

let worker: { device: typeof device } | undefined;

export default {
  async init(options: Record<string, unknown>) {
    record('init', options);
    worker = { device };
  },
  async cleanup() {
    record('cleanup');
    await app?.stop();
    app = undefined;
    worker = undefined;
  },
  get worker() {
    return worker;
  },
};
