/**
 * Server overhead benchmark: push and pull a ~100 KB change set, and a 1000-activity first sync,
 * through the sync server over real HTTP on loopback, against the same rows written/read directly
 * with `pg` (one transaction of upserts / one select). Targets: server <= 3x direct, p95 < 50 ms for
 * the 100 KB push and pull.
 *
 *   npx tsx bench/server-sync.ts [--iterations 50] [--database-url postgres://…] [--client http|fetch]
 *                                [--baseline DIR]
 *
 * --client: how the bench talks HTTP. `http` (default): node:http with one keep-alive connection,
 * gunzip and JSON.parse of the bytes, as harness/load's transport; `fetch`: Node's fetch (undici).
 * The direct side is pg's client with its pooled connection either way.
 * --baseline DIR: a second server from another checkout (e.g. `git archive` of the commit before a
 * change, with node_modules linked), started in this process on its own database and measured round
 * by round beside this one (ABBA), so a change's before/after comes from one run under one load.
 *
 * Writes harness-results/bench/server-sync.json and server-sync.md (the ratio table), and keeps the
 * committed copy bench/results/server-sync.json (runs without --baseline).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
import pg from 'pg';
import { createDatabase, resolvePostgres } from '../harness/services/postgres/index';
import type { SyncRecord } from '../protocol/records';
import { columnNames } from '../protocol/tables';
import { startSyncServer } from '../server/app';

const here = dirname(fileURLToPath(import.meta.url));
const OUT = join(here, '..', 'harness-results', 'bench');
const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const ITER = Number(arg('iterations') ?? 50);
const WARMUP = 5;

function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
  const r = (x: number) => Math.round(x * 100) / 100;
  return { n: s.length, p50: r(at(50)), p95: r(at(95)), min: r(s[0]!), max: r(s[s.length - 1]!) };
}

let seq = 0;
/** Activities with realistic values; ~100 KB of JSON for n = 230. */
function activities(n: number, tag: string): SyncRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `${tag}-${seq++}-${i}`,
    sport: i % 3 === 0 ? 'ride' : 'run',
    started_at: 1_760_000_000_000 + i * 3_600_000,
    duration_s: 1800 + i,
    distance_m: 5000.5 + i,
    avg_hr: 140 + (i % 20),
    max_hr: 180,
    calories: 450,
    elevation_gain_m: 35.5,
    fit_file_key: `fit/${tag}/${i}.fit`,
    source_device: 'garmin-fenix',
    rpe: 6,
    notes: `Felt good, steady effort with a short tempo block in the middle of the session. #${i}`,
    feeling: 'good',
    updated_at: 1_760_000_000_000 + i,
  }));
}

/** One server under test: its URL, a bench user's token, and its samples. */
interface Target {
  label: string;
  url: string;
  close(): Promise<void>;
  auth: Record<string, string>;
  last: number;
  push: number[];
  pull: number[];
  first: number[];
  firstAuth: Record<string, string>;
  firstBytes: number;
}

interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The body as received (still compressed when content-encoding says so). */
  wire: Buffer;
  /** The decoded body (gunzipped when it came compressed). */
  body: Buffer;
}

async function main() {
  const url = arg('database-url');
  const client = arg('client') ?? 'http';
  if (client !== 'http' && client !== 'fetch') throw new Error(`--client must be http or fetch, got "${client}"`);
  const baselineDir = arg('baseline');
  const svc = await resolvePostgres(url ? { mode: 'url', url } : { mode: 'embedded' });
  const db = await createDatabase(svc.url);
  const direct = new pg.Pool({ connectionString: db.url, max: 2 });
  // One keep-alive connection per server, as fetch's pool would keep for sequential requests; the
  // direct side reuses its pool's connection the same way.
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const cols = columnNames('activities', 2);
  const colList = cols.map((c) => `"${c}"`).join(', ');
  const directUpsert =
    `INSERT INTO activities (user_id, id, ${colList}, _stamp, _deleted) ` +
    `SELECT $1, r.id, ${cols.map((c) => `r."${c}"`).join(', ')}, $2, false FROM json_populate_recordset(NULL::activities, $3::json) r ` +
    `ON CONFLICT (user_id, id) DO UPDATE SET ${cols.map((c) => `"${c}" = EXCLUDED."${c}"`).join(', ')}, _stamp = EXCLUDED._stamp`;
  const directSelect = `SELECT id, _deleted, ${colList} FROM activities WHERE user_id = $1 AND _stamp > $2`;

  /**
   * The bench's HTTP client. `http`: node:http with a keep-alive Agent, gunzip and the bytes as
   * they came (what harness/load's transport does); `fetch`: Node's fetch (undici), whose WHATWG
   * streams and Response objects cost the client about as much again as the server's whole reply.
   */
  const send = (
    target: string,
    path: string,
    init: { method?: string; headers: Record<string, string>; body?: string },
    via: 'http' | 'fetch' = client,
  ): Promise<HttpResult> => {
    if (via === 'fetch') {
      return fetch(`${target}${path}`, init).then(async (r) => {
        const body = Buffer.from(await r.arrayBuffer());
        return { status: r.status, headers: Object.fromEntries(r.headers), wire: body, body };
      });
    }
    return new Promise((resolve, reject) => {
      const req = request(`${target}${path}`, { method: init.method ?? 'GET', headers: init.headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const wire = Buffer.concat(chunks);
          const body = res.headers['content-encoding'] === 'gzip' ? gunzipSync(wire) : wire;
          resolve({ status: res.statusCode ?? 0, headers: res.headers, wire, body });
        });
      });
      req.on('error', reject);
      req.end(init.body);
    });
  };
  const token = async (target: string, userId: string, deviceId: string) => {
    const r = await send(target, '/auth/test-token', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId, deviceId, platform: 'IOS' }),
    });
    if (r.status !== 200) throw new Error(`test-token ${r.status}: ${r.body}`);
    const t = (JSON.parse(r.body.toString()) as { token: string }).token;
    return { authorization: `Bearer ${t}`, 'accept-encoding': 'gzip' };
  };
  // Bytes each side hands its caller for the 100 KB pull (the same rows, as JSON on both sides).
  let directPullBytes = 0;
  let serverPullBytes = 0;
  const pull = async (t: Target, since: number, expectRows?: number) => {
    const r = await send(
      t.url,
      `/sync/pull?lastPulledAt=${since}&schemaVersion=2&deviceId=bench-phone&tables=activities`,
      { headers: t.auth },
    );
    if (r.status !== 200) throw new Error(`pull ${r.status}: ${r.body}`);
    if (expectRows !== undefined) serverPullBytes = r.body.length;
    const body = JSON.parse(r.body.toString()) as {
      timestamp: number;
      changes: { activities: { updated: unknown[] } };
    };
    if (expectRows !== undefined && body.changes.activities.updated.length !== expectRows) {
      throw new Error(`pull returned ${body.changes.activities.updated.length} rows, expected ${expectRows}`);
    }
    return body.timestamp;
  };
  const push = async (t: Target, rows: SyncRecord[], lastPulledAt: number) => {
    const r = await send(t.url, '/sync/push', {
      method: 'POST',
      headers: { ...t.auth, 'content-type': 'application/json' },
      body: JSON.stringify({
        changes: { activities: { created: rows, updated: [], deleted: [] } },
        lastPulledAt,
        deviceId: 'bench-phone',
      }),
    });
    if (r.status !== 200) throw new Error(`push ${r.status}: ${r.body}`);
    JSON.parse(r.body.toString());
  };

  const targets: Target[] = [];
  const dbs = [db];
  const addTarget = async (label: string, start: typeof startSyncServer) => {
    const own = targets.length === 0 ? db : await createDatabase(svc.url);
    if (own !== db) dbs.push(own);
    const server = await start({ databaseUrl: own.url, logLevel: 'warn' });
    const t: Target = {
      label,
      url: server.url,
      close: () => server.close(),
      auth: await token(server.url, 'bench', 'bench-phone'),
      firstAuth: await token(server.url, 'bench-first', 'bench-first-phone'),
      last: 0,
      push: [],
      pull: [],
      first: [],
      firstBytes: 0,
    };
    targets.push(t);
  };

  try {
    await addTarget('server', startSyncServer);
    if (baselineDir) {
      // A checkout of another commit (e.g. `git archive` of the one before a change), run in this
      // process beside this one, round by round, so both see the same machine load.
      const mod = (await import(pathToFileURL(resolve(baselineDir, 'server', 'app.ts')).href)) as {
        startSyncServer: typeof startSyncServer;
      };
      await addTarget(`baseline (${baselineDir})`, mod.startSyncServer);
    }
    /** ABBA: round i runs the targets forwards when i is even, backwards when odd. */
    const order = (i: number) => (i % 2 === 0 ? targets : [...targets].reverse());

    const ROWS_100KB = 230;
    const sample = JSON.stringify({
      changes: { activities: { created: activities(ROWS_100KB, 'size'), updated: [], deleted: [] } },
    });
    const payloadBytes = Buffer.byteLength(sample);

    const directPush: number[] = [];
    const directPull: number[] = [];
    for (const t of targets) t.last = await pull(t, 0);
    for (let i = 0; i < WARMUP + ITER; i++) {
      for (const tg of order(i)) {
        // server: push 100 KB, then pull exactly those rows back
        const rows = activities(ROWS_100KB, 's');
        let t = performance.now();
        await push(tg, rows, tg.last);
        const tPush = performance.now() - t;
        t = performance.now();
        const ts = await pull(tg, tg.last, ROWS_100KB);
        const tPull = performance.now() - t;
        tg.last = ts;
        if (i >= WARMUP) {
          tg.push.push(tPush);
          tg.pull.push(tPull);
        }
      }
      // direct: the same rows in one transaction of upserts, then one select of them
      const drows = activities(ROWS_100KB, 'd');
      const stamp = 2_000_000_000_000 + i * 10;
      let t = performance.now();
      const c = await direct.connect();
      try {
        await c.query('BEGIN');
        await c.query(directUpsert, ['direct', stamp, JSON.stringify(drows)]);
        await c.query('COMMIT');
      } finally {
        c.release();
      }
      const dPush = performance.now() - t;
      t = performance.now();
      const sel = await direct.query(directSelect, ['direct', stamp - 1]);
      directPullBytes = Buffer.byteLength(JSON.stringify(sel.rows));
      const dPull = performance.now() - t;
      if (sel.rows.length !== ROWS_100KB) throw new Error(`direct select returned ${sel.rows.length}`);
      if (i >= WARMUP) {
        directPush.push(dPush);
        directPull.push(dPull);
      }
    }

    // First sync of 1000 activities: a fresh user with 1000 rows pulls from 0.
    const firstRows = activities(1000, 'first');
    for (const tg of targets) {
      const p0 = await send(tg.url, '/sync/pull?lastPulledAt=0&deviceId=bench-first-phone', { headers: tg.firstAuth });
      const up = await send(tg.url, '/sync/push', {
        method: 'POST',
        headers: { ...tg.firstAuth, 'content-type': 'application/json' },
        body: JSON.stringify({
          changes: { activities: { created: firstRows, updated: [], deleted: [] } },
          lastPulledAt: (JSON.parse(p0.body.toString()) as { timestamp: number }).timestamp,
          deviceId: 'bench-first-phone',
        }),
      });
      if (up.status !== 200) throw new Error(`first-sync seed push ${up.status}`);
    }
    await direct.query(directUpsert, ['direct-first', 1, JSON.stringify(activities(1000, 'dfirst'))]);
    const directFirst: number[] = [];
    let gz = 0;
    for (let i = 0; i < WARMUP + ITER; i++) {
      for (const tg of order(i)) {
        const t = performance.now();
        const r = await send(tg.url, '/sync/pull?lastPulledAt=0&schemaVersion=2&deviceId=bench-first-phone', {
          headers: tg.firstAuth,
        });
        const body = JSON.parse(r.body.toString()) as { changes: { activities: { updated: unknown[] } } };
        const ts = performance.now() - t;
        if (body.changes.activities.updated.length !== 1000) throw new Error('first sync row count');
        tg.firstBytes = r.body.length;
        if (tg === targets[0]) gz = r.wire.length;
        if (i >= WARMUP) tg.first.push(ts);
      }
      const t = performance.now();
      const sel = await direct.query(directSelect, ['direct-first', 0]);
      JSON.stringify(sel.rows);
      const td = performance.now() - t;
      if (i >= WARMUP) directFirst.push(td);
    }
    const firstBytes = targets[0]!.firstBytes;

    // Wire size of the compressed first sync, for the record (fetch would hide it: it gunzips).
    const wire = await send(
      targets[0]!.url,
      '/sync/pull?lastPulledAt=0&schemaVersion=2&deviceId=bench-first-phone',
      { headers: targets[0]!.firstAuth },
      'http',
    );
    gz = wire.wire.length;

    const casesOf = (t: Target) => {
      const cases = {
        push_100kb: { server: stats(t.push), direct: stats(directPush) },
        pull_100kb: { server: stats(t.pull), direct: stats(directPull) },
        first_sync_1000_activities: { server: stats(t.first), direct: stats(directFirst) },
      };
      return Object.fromEntries(
        Object.entries(cases).map(([k, v]) => [
          k,
          {
            ...v,
            ratioP50: Math.round((v.server.p50 / v.direct.p50) * 100) / 100,
            ratioP95: Math.round((v.server.p95 / v.direct.p95) * 100) / 100,
          },
        ]),
      ) as Record<keyof typeof cases, (typeof cases)['push_100kb'] & { ratioP50: number; ratioP95: number }>;
    };
    const result = {
      benchmark: 'server-sync',
      date: new Date().toISOString(),
      iterations: ITER,
      postgres: svc.mode,
      client,
      // Timings on a shared CI box swing with its load; keep the load next to the numbers.
      loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
      cpus: cpus().length,
      payloadBytes100kb: payloadBytes,
      pullBytes100kb: { server: serverPullBytes, direct: directPullBytes },
      firstSyncBytes: { json: firstBytes, gzip: gz },
      targets: { ratioMax: 3, p95MaxMs100kb: 50 },
      cases: casesOf(targets[0]!),
      ...(targets[1] ? { baseline: { dir: baselineDir, cases: casesOf(targets[1]) } } : {}),
    };
    const all = [
      { label: 'server', cases: result.cases },
      ...(result.baseline ? [{ label: 'baseline', cases: result.baseline.cases }] : []),
    ];
    for (const { label: who, cases } of all) {
      for (const [k, v] of Object.entries(cases)) {
        console.log(
          `${who.padEnd(8)} ${k.padEnd(28)} server p50 ${String(v.server.p50).padStart(7)} ms  p95 ${String(v.server.p95).padStart(7)} ms | ` +
            `direct p50 ${String(v.direct.p50).padStart(7)} ms  p95 ${String(v.direct.p95).padStart(7)} ms | ratio p50 ${v.ratioP50}x p95 ${v.ratioP95}x`,
        );
      }
    }
    const ok =
      result.cases.push_100kb.server.p95 < 50 &&
      result.cases.pull_100kb.server.p95 < 50 &&
      Object.values(result.cases).every((c) => c.ratioP50 <= 3);
    console.log(
      `payload ${payloadBytes} bytes; targets (p95 < 50 ms for 100 KB, server <= 3x direct at p50): ${ok ? 'met' : 'MISSED'}`,
    );
    const json = `${JSON.stringify({ ...result, targetsMet: ok }, null, 2)}\n`;
    const label = {
      push_100kb: 'push 100 KB',
      pull_100kb: 'pull 100 KB',
      first_sync_1000_activities: 'first sync (1000 activities)',
    };
    const md = [
      `# server-sync (${result.date}, load ${result.loadAverage.join(' ')}, ${result.cpus} CPUs, ${ITER} iterations, client ${client})`,
      '',
      '| case | server p50 ms | server p95 ms | direct PostgreSQL p50 ms | direct p95 ms | ratio p50 | ratio p95 | target |',
      '|---|---|---|---|---|---|---|---|',
      ...all.flatMap(({ label: who, cases }) =>
        Object.entries(cases).map(
          ([k, v]) =>
            `| ${label[k as keyof typeof label]}${who === 'server' ? '' : ` (${who})`} | ${v.server.p50} | ${v.server.p95} | ${v.direct.p50} | ${v.direct.p95} | ${v.ratioP50}× | ${v.ratioP95}× | ≤ 3× at p50${k.endsWith('100kb') ? ', p95 < 50 ms' : ''} |`,
        ),
      ),
      '',
      `Payload ${payloadBytes} bytes of JSON; the 100 KB pull gives ${serverPullBytes} bytes of JSON through the server, ${directPullBytes} direct; first sync ${firstBytes} bytes, ${gz} gzipped on the wire. Targets ${ok ? 'met' : 'MISSED'}.`,
      ...(result.baseline ? ['', `Baseline: ${baselineDir}, run round by round (ABBA) beside this checkout.`] : []),
      '',
    ].join('\n');
    mkdirSync(OUT, { recursive: true });
    writeFileSync(join(OUT, 'server-sync.json'), json);
    writeFileSync(join(OUT, 'server-sync.md'), md);
    // The committed copy is this checkout's figures alone: an A/B run is for its own note.
    if (!result.baseline) {
      const committed = join(here, 'results', 'server-sync.json');
      mkdirSync(dirname(committed), { recursive: true });
      writeFileSync(committed, json);
    }
    console.log(md);
    console.log(
      `wrote ${join(OUT, 'server-sync.json')} and server-sync.md${result.baseline ? '' : ' (and bench/results/server-sync.json)'}`,
    );
  } finally {
    agent.destroy();
    await direct.end();
    for (const t of targets) await t.close();
    for (const d of dbs) await d.drop().catch(() => {});
    await svc.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
