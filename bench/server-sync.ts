/**
 * Server overhead benchmark: push and pull a ~100 KB change set, and a 1000-activity first sync,
 * through the sync server over real HTTP on loopback, against the same rows written/read directly
 * with `pg` (one transaction of upserts / one select). Targets: server <= 3x direct, p95 < 50 ms for
 * the 100 KB push and pull.
 *
 *   npx tsx bench/server-sync.ts [--iterations 50] [--database-url postgres://…]
 *
 * Writes harness-results/bench/server-sync.json and server-sync.md (the ratio table), and keeps the
 * committed copy bench/results/server-sync.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
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

async function main() {
  const url = arg('database-url');
  const svc = await resolvePostgres(url ? { mode: 'url', url } : { mode: 'embedded' });
  const db = await createDatabase(svc.url);
  const server = await startSyncServer({ databaseUrl: db.url, logLevel: 'warn' });
  const direct = new pg.Pool({ connectionString: db.url, max: 2 });
  const cols = columnNames('activities', 2);
  const colList = cols.map((c) => `"${c}"`).join(', ');
  const directUpsert =
    `INSERT INTO activities (user_id, id, ${colList}, _stamp, _deleted) ` +
    `SELECT $1, r.id, ${cols.map((c) => `r."${c}"`).join(', ')}, $2, false FROM json_populate_recordset(NULL::activities, $3::json) r ` +
    `ON CONFLICT (user_id, id) DO UPDATE SET ${cols.map((c) => `"${c}" = EXCLUDED."${c}"`).join(', ')}, _stamp = EXCLUDED._stamp`;
  const directSelect = `SELECT id, _deleted, ${colList} FROM activities WHERE user_id = $1 AND _stamp > $2`;

  try {
    const tok = await fetch(`${server.url}/auth/test-token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId: 'bench', deviceId: 'bench-phone', platform: 'IOS' }),
    }).then((r) => r.json() as Promise<{ token: string }>);
    const headers = { authorization: `Bearer ${tok.token}`, 'accept-encoding': 'gzip' };
    const pull = async (since: number, expectRows?: number) => {
      const r = await fetch(
        `${server.url}/sync/pull?lastPulledAt=${since}&schemaVersion=2&deviceId=bench-phone&tables=activities`,
        { headers },
      );
      const body = (await r.json()) as { timestamp: number; changes: { activities: { updated: unknown[] } } };
      if (r.status !== 200) throw new Error(`pull ${r.status}`);
      if (expectRows !== undefined && body.changes.activities.updated.length !== expectRows) {
        throw new Error(`pull returned ${body.changes.activities.updated.length} rows, expected ${expectRows}`);
      }
      return body.timestamp;
    };
    const push = async (rows: SyncRecord[], lastPulledAt: number) => {
      const r = await fetch(`${server.url}/sync/push`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({
          changes: { activities: { created: rows, updated: [], deleted: [] } },
          lastPulledAt,
          deviceId: 'bench-phone',
        }),
      });
      const body = await r.text();
      if (r.status !== 200) throw new Error(`push ${r.status}: ${body}`);
    };

    const ROWS_100KB = 230;
    const sample = JSON.stringify({
      changes: { activities: { created: activities(ROWS_100KB, 'size'), updated: [], deleted: [] } },
    });
    const payloadBytes = Buffer.byteLength(sample);

    const serverPush: number[] = [];
    const serverPull: number[] = [];
    const directPush: number[] = [];
    const directPull: number[] = [];
    let last = await pull(0);
    for (let i = 0; i < WARMUP + ITER; i++) {
      // server: push 100 KB, then pull exactly those rows back
      const rows = activities(ROWS_100KB, 's');
      let t = performance.now();
      await push(rows, last);
      const tPush = performance.now() - t;
      t = performance.now();
      const ts = await pull(last, ROWS_100KB);
      const tPull = performance.now() - t;
      last = ts;
      // direct: the same rows in one transaction of upserts, then one select of them
      const drows = activities(ROWS_100KB, 'd');
      const stamp = 2_000_000_000_000 + i * 10;
      t = performance.now();
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
      JSON.stringify(sel.rows);
      const dPull = performance.now() - t;
      if (sel.rows.length !== ROWS_100KB) throw new Error(`direct select returned ${sel.rows.length}`);
      if (i >= WARMUP) {
        serverPush.push(tPush);
        serverPull.push(tPull);
        directPush.push(dPush);
        directPull.push(dPull);
      }
    }

    // First sync of 1000 activities: a fresh user with 1000 rows pulls from 0.
    const tok2 = await fetch(`${server.url}/auth/test-token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId: 'bench-first', deviceId: 'bench-first-phone', platform: 'IOS' }),
    }).then((r) => r.json() as Promise<{ token: string }>);
    const h2 = { authorization: `Bearer ${tok2.token}`, 'accept-encoding': 'gzip' };
    const firstRows = activities(1000, 'first');
    const p0 = await fetch(`${server.url}/sync/pull?lastPulledAt=0&deviceId=bench-first-phone`, { headers: h2 }).then(
      (r) => r.json() as Promise<{ timestamp: number }>,
    );
    const up = await fetch(`${server.url}/sync/push`, {
      method: 'POST',
      headers: { ...h2, 'content-type': 'application/json' },
      body: JSON.stringify({
        changes: { activities: { created: firstRows, updated: [], deleted: [] } },
        lastPulledAt: p0.timestamp,
        deviceId: 'bench-first-phone',
      }),
    });
    if (up.status !== 200) throw new Error(`first-sync seed push ${up.status}`);
    await direct.query(directUpsert, ['direct-first', 1, JSON.stringify(activities(1000, 'dfirst'))]);
    const serverFirst: number[] = [];
    const directFirst: number[] = [];
    let firstBytes = 0;
    for (let i = 0; i < WARMUP + ITER; i++) {
      let t = performance.now();
      const r = await fetch(`${server.url}/sync/pull?lastPulledAt=0&schemaVersion=2&deviceId=bench-first-phone`, {
        headers: h2,
      });
      const buf = Buffer.from(await r.arrayBuffer());
      const body = JSON.parse(buf.toString()) as { changes: { activities: { updated: unknown[] } } };
      const ts = performance.now() - t;
      if (body.changes.activities.updated.length !== 1000) throw new Error('first sync row count');
      firstBytes = buf.length;
      t = performance.now();
      const sel = await direct.query(directSelect, ['direct-first', 0]);
      JSON.stringify(sel.rows);
      const td = performance.now() - t;
      if (i >= WARMUP) {
        serverFirst.push(ts);
        directFirst.push(td);
      }
    }
    // Wire size of the compressed first sync, for the record.
    const gz = await new Promise<number>((resolve) => {
      void import('node:http').then(({ get }) =>
        get(
          `${server.url}/sync/pull?lastPulledAt=0&schemaVersion=2&deviceId=bench-first-phone`,
          { headers: h2 },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => {
              const b = Buffer.concat(chunks);
              gunzipSync(b);
              resolve(b.length);
            });
          },
        ),
      );
    });

    const cases = {
      push_100kb: { server: stats(serverPush), direct: stats(directPush) },
      pull_100kb: { server: stats(serverPull), direct: stats(directPull) },
      first_sync_1000_activities: { server: stats(serverFirst), direct: stats(directFirst) },
    };
    const result = {
      benchmark: 'server-sync',
      date: new Date().toISOString(),
      iterations: ITER,
      postgres: svc.mode,
      // Timings on a shared CI box swing with its load; keep the load next to the numbers.
      loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
      cpus: cpus().length,
      payloadBytes100kb: payloadBytes,
      firstSyncBytes: { json: firstBytes, gzip: gz },
      targets: { ratioMax: 3, p95MaxMs100kb: 50 },
      cases: Object.fromEntries(
        Object.entries(cases).map(([k, v]) => [
          k,
          {
            ...v,
            ratioP50: Math.round((v.server.p50 / v.direct.p50) * 100) / 100,
            ratioP95: Math.round((v.server.p95 / v.direct.p95) * 100) / 100,
          },
        ]),
      ),
    };
    for (const [k, v] of Object.entries(result.cases)) {
      console.log(
        `${k.padEnd(28)} server p50 ${String(v.server.p50).padStart(7)} ms  p95 ${String(v.server.p95).padStart(7)} ms | ` +
          `direct p50 ${String(v.direct.p50).padStart(7)} ms  p95 ${String(v.direct.p95).padStart(7)} ms | ratio p50 ${v.ratioP50}x p95 ${v.ratioP95}x`,
      );
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
      `# server-sync (${result.date}, load ${result.loadAverage.join(' ')}, ${result.cpus} CPUs, ${ITER} iterations)`,
      '',
      '| case | server p50 ms | server p95 ms | direct PostgreSQL p50 ms | direct p95 ms | ratio p50 | ratio p95 | target |',
      '|---|---|---|---|---|---|---|---|',
      ...Object.entries(result.cases).map(
        ([k, v]) =>
          `| ${label[k as keyof typeof label]} | ${v.server.p50} | ${v.server.p95} | ${v.direct.p50} | ${v.direct.p95} | ${v.ratioP50}× | ${v.ratioP95}× | ≤ 3× at p50${k.endsWith('100kb') ? ', p95 < 50 ms' : ''} |`,
      ),
      '',
      `Payload ${payloadBytes} bytes of JSON; first sync ${firstBytes} bytes, ${gz} gzipped on the wire. Targets ${ok ? 'met' : 'MISSED'}.`,
      '',
    ].join('\n');
    mkdirSync(OUT, { recursive: true });
    writeFileSync(join(OUT, 'server-sync.json'), json);
    writeFileSync(join(OUT, 'server-sync.md'), md);
    const committed = join(here, 'results', 'server-sync.json');
    mkdirSync(dirname(committed), { recursive: true });
    writeFileSync(committed, json);
    console.log(md);
    console.log(`wrote ${join(OUT, 'server-sync.json')}, server-sync.md and ${committed}`);
  } finally {
    await direct.end();
    await server.close();
    await db.drop().catch(() => {});
    await svc.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
