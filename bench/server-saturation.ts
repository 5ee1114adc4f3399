/**
 * How many syncs per second the reference server sustains at saturation, and what one sync costs it
 * in CPU. A light, closed-loop HTTP driver (not the VU device: its own CPU would hide the server's)
 * keeps `--concurrency` syncs in flight; each sync is a pull and a push of one or two rows (a check-in
 * or an activity) from one of `--users` × 2 devices. The server is a child process, as in a scenario.
 *
 *   npx tsx bench/server-saturation.ts [--seconds 8] [--concurrency 64] [--users 200] [--rounds 3]
 *       [--server DIR[,ENV=VALUE...]]... [--cpu-prof DIR] [--pg-stats]
 *
 * Several --server (checkouts of this repository, e.g. a `git worktree` of the commit before a
 * change) are measured interleaved, round by round, on one PostgreSQL: an A/B in one run on a shared
 * machine. CPU ms per sync (server process, and PostgreSQL's backends) is the figure least sensitive
 * to other load; syncs/s and latency are wall-clock and move with it. Medians over rounds.
 * --cpu-prof writes a V8 profile of each server process; --pg-stats loads pg_stat_statements and
 * prints the statements by total time.
 *
 * Writes harness-results/bench/server-saturation.json.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createDatabase, freePort, resolvePostgres } from '../harness/services/postgres/index';
import { mulberry32 } from '../protocol/random';
import type { SyncRecord } from '../protocol/records';
import { columnsFor, type TableName } from '../protocol/tables';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const arg = (name: string, dflt: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1]! : dflt;
};
const args = (name: string) => argv.flatMap((a, i) => (a === `--${name}` ? [argv[i + 1]!] : []));
const SECONDS = Number(arg('seconds', '8'));
const CONCURRENCY = Number(arg('concurrency', '64'));
const USERS = Number(arg('users', '200'));
const ROUNDS = Number(arg('rounds', '3'));
const CPU_PROF = argv.includes('--cpu-prof') ? resolve(arg('cpu-prof', 'harness-results/bench/profiles')) : undefined;
const PG_STATS = argv.includes('--pg-stats');
/** `DIR[,NAME=VALUE...]`: a checkout and environment variables for its server (e.g. SYNC_SERVER_POOL_SIZE=8). */
const VARIANTS = (args('server').length ? args('server') : [ROOT]).map((spec) => {
  const [dir, ...env] = spec.split(',');
  return {
    label: spec.replace(ROOT, '.'),
    dir: resolve(dir!),
    env: Object.fromEntries(env.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])),
  };
});
for (const [k, v] of Object.entries({ SECONDS, CONCURRENCY, USERS, ROUNDS })) {
  if (!Number.isFinite(v) || v <= 0) {
    console.error(`--${k.toLowerCase()} must be a positive number`);
    process.exit(2);
  }
}

const CLK_TCK = 100;
/** utime + stime of a process in ms (from /proc; Linux only). */
function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
  } catch {
    return 0;
  }
}
function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : 0;
}
function childrenOf(ppid: number): number[] {
  const out: number[] = [];
  for (const line of readFileSync(`/proc/${ppid}/task/${ppid}/children`, 'utf8').trim().split(/\s+/)) {
    if (line) out.push(Number(line));
  }
  return out;
}

interface Server {
  dir: string;
  label: string;
  url: URL;
  child: ChildProcess;
  close(): Promise<void>;
}

async function startServer(
  dir: string,
  env: Record<string, string>,
  databaseUrl: string,
  label: string,
): Promise<Server> {
  const port = await freePort();
  const tsx = createRequire(join(dir, 'package.json')).resolve('tsx');
  // One folder per server: the tsx loader thread writes a profile of its own beside the main thread's.
  const profDir = CPU_PROF ? join(CPU_PROF, label.replace(/[^\w.-]+/g, '_')) : undefined;
  const nodeArgs = profDir ? ['--cpu-prof', '--cpu-prof-dir', profDir] : [];
  if (profDir) mkdirSync(profDir, { recursive: true });
  const child = spawn(
    process.execPath,
    [
      ...nodeArgs,
      '--import',
      tsx,
      join(dir, 'server', 'main.ts'),
      '--port',
      String(port),
      '--database-url',
      databaseUrl,
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_ENV: 'production', SYNC_SERVER_LOG_LEVEL: 'warn', ...env },
    },
  );
  let out = '';
  await new Promise<void>((res, rej) => {
    const t = setTimeout(() => rej(new Error(`server ${dir} did not start:\n${out}`)), 30_000);
    child.stdout!.on('data', (b: Buffer) => {
      out += b;
      if (out.includes('listening on http')) {
        clearTimeout(t);
        res();
      }
    });
    child.stderr!.on('data', (b: Buffer) => {
      out += b;
    });
    child.on('exit', (c) => {
      clearTimeout(t);
      rej(new Error(`server ${dir} exited ${c}:\n${out.slice(-2000)}`));
    });
  });
  child.removeAllListeners('exit');
  return {
    dir,
    label,
    url: new URL(`http://127.0.0.1:${port}`),
    child,
    close: () =>
      new Promise((res) => {
        child.once('exit', () => res());
        child.kill('SIGTERM');
      }),
  };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY * 2 });
function request(
  base: URL,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((res, rej) => {
    const req = http.request({ agent, host: base.hostname, port: base.port, method, path, headers }, (r) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => res({ status: r.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      r.on('error', rej);
    });
    req.on('error', rej);
    req.end(body);
  });
}

interface Device {
  user: string;
  id: string;
  token: string;
  lastPulledAt: number;
  busy: boolean;
  n: number;
}

/** A row of `table` with a value of each column's type (a check-in is a daily_metrics row). */
function row(table: TableName, id: string, i: number): SyncRecord {
  const r: SyncRecord = { id };
  for (const c of columnsFor(table, 2)) {
    r[c.name] = c.name === 'updated_at' ? Date.now() : c.type === 'number' ? 100 + i : `${c.name} ${i} felt steady`;
  }
  return r;
}

async function devicesFor(server: Server, tag: string): Promise<Device[]> {
  const out: Device[] = [];
  for (let u = 0; u < USERS; u++) {
    for (let d = 0; d < 2; d++) {
      const user = `${tag}-u${u}`;
      const id = `${user}-d${d}`;
      const r = await request(
        server.url,
        'POST',
        '/auth/test-token',
        { 'content-type': 'application/json' },
        JSON.stringify({ userId: user, deviceId: id, platform: d ? 'ANDROID' : 'IOS' }),
      );
      if (r.status !== 200) throw new Error(`token ${r.status} ${r.body}`);
      out.push({
        user,
        id,
        token: (JSON.parse(r.body) as { token: string }).token,
        lastPulledAt: 0,
        busy: false,
        n: 0,
      });
    }
  }
  return out;
}

/** One sync: pull since the device's timestamp, then push one or two new rows. */
async function sync(server: Server, dev: Device): Promise<void> {
  const h = { authorization: `Bearer ${dev.token}`, 'accept-encoding': 'gzip' };
  const p = await request(
    server.url,
    'GET',
    `/sync/pull?lastPulledAt=${dev.lastPulledAt}&schemaVersion=2&deviceId=${encodeURIComponent(dev.id)}`,
    h,
  );
  if (p.status !== 200) throw new Error(`pull ${p.status} ${p.body.slice(0, 200)}`);
  const ts = (JSON.parse(p.body) as { timestamp: number }).timestamp;
  const k = dev.n++;
  const changes =
    k % 2 === 0
      ? { daily_metrics: { created: [row('daily_metrics', `${dev.id}-c${k}`, k)], updated: [], deleted: [] } }
      : {
          activities: {
            created: [row('activities', `${dev.id}-a${k}`, k)],
            updated: [row('activities', `${dev.id}-a${k - 2}`, k)],
            deleted: [],
          },
        };
  const r = await request(
    server.url,
    'POST',
    '/sync/push?schemaVersion=2',
    { ...h, 'content-type': 'application/json' },
    JSON.stringify({ changes, lastPulledAt: ts, deviceId: dev.id }),
  );
  if (r.status !== 200) throw new Error(`push ${r.status} ${r.body.slice(0, 200)}`);
  dev.lastPulledAt = ts;
}

/** sum (s) and count per phase of sync_phase_duration_seconds, and per route of the request histogram. */
async function scrape(server: Server): Promise<Map<string, { sum: number; count: number }>> {
  const r = await request(server.url, 'GET', '/metrics', {});
  const out = new Map<string, { sum: number; count: number }>();
  const re = /^(sync_phase_duration_seconds|sync_request_duration_seconds)_(sum|count)\{([^}]*)\} (\S+)$/gm;
  for (const m of r.body.matchAll(re)) {
    const labels = m[3]!;
    const phase = /phase="([^"]+)"/.exec(labels)?.[1];
    const route = /route="([^"]+)"/.exec(labels)?.[1];
    const status = /status="([^"]+)"/.exec(labels)?.[1];
    const key = phase ?? (route?.startsWith('/sync/') && status === '200' ? `request ${route}` : undefined);
    if (!key) continue;
    const e = out.get(key) ?? { sum: 0, count: 0 };
    e[m[2] as 'sum' | 'count'] += Number(m[4]);
    out.set(key, e);
  }
  return out;
}

interface RoundResult {
  syncs: number;
  errors: number;
  syncsPerSec: number;
  p50: number;
  p95: number;
  serverCpuMsPerSync: number;
  pgCpuMsPerSync: number;
  generatorCpuMsPerSync: number;
  serverCpuCores: number;
  serverRssMb: number;
  /** Mean ms per occurrence of each step (servers that report sync_phase_duration_seconds). */
  phasesMs: Record<string, number>;
}

async function round(server: Server, devices: Device[], postmaster: number): Promise<RoundResult> {
  const lat: number[] = [];
  let errors = 0;
  let next = 0;
  const pgCpu = () => childrenOf(postmaster).reduce((s, p) => s + cpuMs(p), cpuMs(postmaster));
  const m0 = await scrape(server);
  const s0 = cpuMs(server.child.pid!);
  const p0 = pgCpu();
  const g0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + SECONDS * 1000;
  const loop = async () => {
    while (performance.now() < end) {
      let dev: Device | undefined;
      for (let i = 0; i < devices.length && !dev; i++) {
        const d = devices[(next + i) % devices.length]!;
        if (!d.busy) dev = d;
      }
      next = (next + 1) % devices.length;
      if (!dev) throw new Error('more loops than devices');
      dev.busy = true;
      const t = performance.now();
      try {
        await sync(server, dev);
        lat.push(performance.now() - t);
      } catch (e) {
        errors++;
        if (errors < 3) console.error(String(e));
      } finally {
        dev.busy = false;
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, loop));
  const wall = performance.now() - t0;
  const g = process.cpuUsage(g0);
  const n = Math.max(1, lat.length);
  const sorted = lat.sort((a, b) => a - b);
  const pct = (p: number) =>
    Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! * 10) / 10;
  const serverCpu = cpuMs(server.child.pid!) - s0;
  const m1 = await scrape(server);
  const phasesMs: Record<string, number> = {};
  for (const [k, v] of m1) {
    const b = m0.get(k) ?? { sum: 0, count: 0 };
    if (v.count > b.count) phasesMs[k] = Math.round(((v.sum - b.sum) / (v.count - b.count)) * 1e5) / 100;
  }
  const r1 = (x: number) => Math.round(x * 100) / 100;
  return {
    syncs: lat.length,
    errors,
    syncsPerSec: Math.round((lat.length / wall) * 1000),
    p50: pct(50),
    p95: pct(95),
    serverCpuMsPerSync: r1(serverCpu / n),
    pgCpuMsPerSync: r1((pgCpu() - p0) / n),
    generatorCpuMsPerSync: r1((g.user + g.system) / 1000 / n),
    serverCpuCores: r1(serverCpu / wall),
    serverRssMb: rssMb(server.child.pid!),
    phasesMs,
  };
}

function rng(seed: number) {
  const next = mulberry32(seed);
  return { int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)) };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function main() {
  const pgSvc = await resolvePostgres({
    mode: process.env.HARNESS_PG_URL ? 'url' : 'embedded',
    url: process.env.HARNESS_PG_URL,
    log: (l) => console.error(l),
    ...(PG_STATS
      ? {
          settings: {
            shared_preload_libraries: 'pg_stat_statements',
            'pg_stat_statements.track': 'all',
            // Planning time too: a prepared statement PostgreSQL keeps custom-planning costs it every call.
            'pg_stat_statements.track_planning': 'on',
          },
        }
      : {}),
  });
  const servers: Array<{ server: Server; devices: Device[]; rounds: RoundResult[]; db: { drop(): Promise<void> } }> =
    [];
  const admin = new pg.Client({ connectionString: pgSvc.url });
  await admin.connect();
  try {
    const postmaster = Number(
      readFileSync(`/proc/${(await admin.query('SELECT pg_backend_pid() AS p')).rows[0].p}/stat`, 'utf8')
        .split(') ')[1]!
        .split(' ')[1],
    );
    for (const [i, v] of VARIANTS.entries()) {
      const db = await createDatabase(pgSvc.url);
      const server = await startServer(v.dir, v.env, db.url, v.label);
      // Shuffled (seeded), so the syncs in flight belong to different users as with real phones; in
      // creation order a user's two devices would always sync at once and wait on each other's lock.
      const devices = await devicesFor(server, `s${i}`);
      const r = rng(7);
      for (let k = devices.length - 1; k > 0; k--) {
        const j = r.int(0, k);
        [devices[k], devices[j]] = [devices[j]!, devices[k]!];
      }
      servers.push({ server, devices, rounds: [], db });
    }
    // Warm-up: JIT, prepared statements, every user's first push.
    for (const s of servers) {
      await Promise.all(s.devices.map((d) => sync(s.server, d)));
    }
    if (PG_STATS)
      await admin.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements; SELECT pg_stat_statements_reset()');
    for (let r = 0; r < ROUNDS; r++) {
      // ABBA order: a drift of the machine's load hits every server alike.
      for (const s of r % 2 ? [...servers].reverse() : servers) {
        const res = await round(s.server, s.devices, postmaster);
        s.rounds.push(res);
        console.error(`round ${r + 1} ${s.server.label}: ${JSON.stringify(res)}`);
      }
    }
    let pgStatements: unknown[] | undefined;
    if (PG_STATS) {
      const q = await admin.query(
        `SELECT calls, plans, round(total_plan_time::numeric, 1) AS plan_ms, round(total_exec_time::numeric, 1) AS total_ms,
                round(mean_exec_time::numeric, 3) AS mean_ms, rows, left(regexp_replace(query, '\\s+', ' ', 'g'), 90) AS query
         FROM pg_stat_statements ORDER BY total_exec_time + total_plan_time DESC LIMIT 15`,
      );
      pgStatements = q.rows;
      console.table(q.rows);
    }
    const summary = servers.map((s) => {
      const m = (k: Exclude<keyof RoundResult, 'phasesMs'>) =>
        Math.round(median(s.rounds.map((x) => x[k])) * 100) / 100;
      return {
        serverDir: s.server.label,
        syncsPerSec: m('syncsPerSec'),
        p50Ms: m('p50'),
        p95Ms: m('p95'),
        serverCpuMsPerSync: m('serverCpuMsPerSync'),
        pgCpuMsPerSync: m('pgCpuMsPerSync'),
        generatorCpuMsPerSync: m('generatorCpuMsPerSync'),
        serverCpuCores: m('serverCpuCores'),
        serverRssMb: Math.max(...s.rounds.map((x) => x.serverRssMb)),
        phasesMs: Object.fromEntries(
          Object.keys(s.rounds[0]!.phasesMs).map((k) => [k, median(s.rounds.map((x) => x.phasesMs[k] ?? 0))]),
        ),
        errors: s.rounds.reduce((n, x) => n + x.errors, 0),
        rounds: s.rounds,
      };
    });
    const result = {
      benchmark: 'server-saturation',
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, loadAverage: loadavg().map((x) => Math.round(x * 100) / 100) },
      params: { seconds: SECONDS, concurrency: CONCURRENCY, users: USERS, devicesPerUser: 2, rounds: ROUNDS },
      summary,
      ...(pgStatements ? { pgStatements } : {}),
    };
    const outDir = join(ROOT, 'harness-results', 'bench');
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, 'server-saturation.json'), `${JSON.stringify(result, null, 2)}\n`);
    console.log(
      '| server | syncs/s | p50 ms | p95 ms | server CPU ms/sync | PostgreSQL CPU ms/sync | generator CPU ms/sync | server cores | server RSS MB | errors |',
    );
    console.log('|---|---|---|---|---|---|---|---|---|---|');
    for (const s of summary) {
      console.log(
        `| ${s.serverDir} | ${s.syncsPerSec} | ${s.p50Ms} | ${s.p95Ms} | ${s.serverCpuMsPerSync} | ${s.pgCpuMsPerSync} | ${s.generatorCpuMsPerSync} | ${s.serverCpuCores} | ${s.serverRssMb} | ${s.errors} |`,
      );
    }
    const phaseNames = [...new Set(summary.flatMap((s) => Object.keys(s.phasesMs)))];
    if (phaseNames.length > 0) {
      console.log(`\n| step (mean ms) | ${summary.map((s) => s.serverDir).join(' | ')} |`);
      console.log(`|---|${summary.map(() => '---|').join('')}`);
      for (const k of phaseNames) {
        console.log(`| ${k} | ${summary.map((s) => s.phasesMs[k] ?? '–').join(' | ')} |`);
      }
    }
    console.log(
      `load average ${result.machine.loadAverage.join(' ')}; wrote ${join(outDir, 'server-saturation.json')}`,
    );
  } finally {
    for (const s of servers) await s.server.close().catch(() => {});
    for (const s of servers) await s.db.drop().catch(() => {});
    await admin.end().catch(() => {});
    agent.destroy();
    await pgSvc.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
