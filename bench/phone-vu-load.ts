/**
 * RFC 0006 §5.2 "1000 concurrent sync operations": protocol-level virtual users (devices/vu) syncing
 * real payload shapes against the real server (child process, embedded PostgreSQL or HARNESS_PG_URL).
 *
 *   npx tsx bench/phone-vu-load.ts [--users 300] [--devices 4] [--seconds 20] [--think-ms 0]
 *
 * Writes bench/results/phone-vu-load.json: latency percentiles, success rate, and how long at least
 * 1000 syncs were really in flight at once (not just how many VUs existed).
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runVirtualUsers } from '../devices/vu/index';
import { startChildServer } from '../harness/runner/server-process';
import { resolvePostgres } from '../harness/services/postgres/index';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : dflt;
};
const users = Number(arg('users', '300'));
const devicesPerUser = Number(arg('devices', '4'));
const seconds = Number(arg('seconds', '20'));
const thinkTimeMs = Number(arg('think-ms', '0'));

const pgRes = await resolvePostgres({
  mode: process.env.HARNESS_PG_URL ? 'url' : 'embedded',
  url: process.env.HARNESS_PG_URL,
  log: () => {},
});
const server = await startChildServer({ databaseUrl: pgRes.url });
const loadAtStart = loadavg();
try {
  const report = await runVirtualUsers({
    serverUrl: server.url,
    users,
    devicesPerUser,
    durationMs: seconds * 1000,
    thinkTimeMs,
    requestTimeoutMs: 60_000,
    targetConcurrency: 1000,
    onProgress: (p) => console.log(`t=${(p.elapsedMs / 1000).toFixed(0)}s syncs=${p.syncs} inFlight=${p.inFlight}`),
  });
  const result = {
    bench: 'phone-vu-load',
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, loadAvgAtStart: loadAtStart.map((x) => Math.round(x * 100) / 100) },
    params: { users, devicesPerUser, seconds, thinkTimeMs },
    notes: [
      'latencyMs: wall time of one sync (pull + push) seen by the VU, server and load generator on the same machine.',
      'maxConcurrentSyncs / msAtOrAboveTarget: syncs actually in flight at once, measured by the load generator.',
    ],
    report,
  };
  const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'phone-vu-load.json');
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(report, null, 2));
  console.log(`wrote ${out}`);
} finally {
  await server.close().catch(() => {});
  await pgRes.stop().catch(() => {});
}
