/**
 * Issue 16: the same virtual-user load against the reference server as 1 and as 2 processes, each
 * behind the round-robin front, on one PostgreSQL (embedded or HARNESS_PG_URL). Like for like: the
 * front is in both paths, so the ratio is what a second instance buys on this machine.
 *
 *   npx tsx bench/scale-out.ts [--users 150] [--devices 4] [--seconds 15]
 *
 * Writes bench/results/scale-out.json. On a 2-core machine that also runs PostgreSQL and the load
 * generator, a second instance can only win what one instance leaves idle; the JSON says so.
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runLoad } from '../harness/load/index';
import { startCluster } from '../harness/runner/server-cluster';
import { createDatabase, resolvePostgres } from '../harness/services/postgres/index';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : dflt;
};
const users = Number(arg('users', '150'));
const devicesPerUser = Number(arg('devices', '4'));
const seconds = Number(arg('seconds', '15'));

const pg = await resolvePostgres({
  mode: process.env.HARNESS_PG_URL ? 'url' : 'embedded',
  url: process.env.HARNESS_PG_URL,
  log: () => {},
});
const rows: Array<Record<string, number>> = [];
try {
  for (const instances of [1, 2]) {
    const db = await createDatabase(pg.url);
    const cluster = await startCluster({ databaseUrl: db.url, instances });
    try {
      const { summary: r } = await runLoad({
        serverUrl: cluster.url,
        executor: { executor: 'constant-vus', vus: users * devicesPerUser, durationMs: seconds * 1000 },
        devicesPerUser,
        seed: 16,
        requestTimeoutMs: 60_000,
      });
      const row = {
        instances,
        vus: r.vus,
        syncs: r.iterations,
        syncsPerSec: Math.round(r.syncsPerSec),
        successRate: r.successRate,
        p50Ms: Math.round(r.latency.p50),
        p95Ms: Math.round(r.latency.p95),
        p99Ms: Math.round(r.latency.p99),
        maxConcurrentSyncs: r.maxInFlight,
        generatorCpuPct: Math.round(r.generator.cpuPct),
      };
      rows.push(row);
      process.stderr.write(`${JSON.stringify(row)}\n`);
    } finally {
      await cluster.close();
      await db.drop().catch(() => {});
    }
  }
} finally {
  await pg.stop();
}
const [one, two] = rows as [Record<string, number>, Record<string, number>];
const out = {
  bench: 'scale-out',
  when: new Date().toISOString(),
  machine: { cpus: cpus().length, loadavgAtEnd: loadavg() },
  params: { users, devicesPerUser, seconds },
  runs: rows,
  ratio2to1: {
    throughput: Number((two.syncsPerSec! / one.syncsPerSec!).toFixed(2)),
    p95: Number((two.p95Ms! / one.p95Ms!).toFixed(2)),
  },
  note:
    cpus().length <= 2
      ? 'PostgreSQL, the load generator and every server instance share the same cores: the ratio measures what a second process buys here, not on separate machines.'
      : undefined,
};
const file = join(dirname(fileURLToPath(import.meta.url)), 'results', 'scale-out.json');
writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(out.ratio2to1)}\nwrote ${file}\n`);
