/**
 * `harness export k6 <scenario>`: a k6 script that speaks the sync protocol with the scenario's load
 * profile, payload mix and thresholds, so load past one machine runs on k6's own distributed
 * runners (k6-operator, the hosted service) instead of a home-made cluster.
 *
 * The script is plain JavaScript with no dependency but k6's own modules. Its request builders and
 * response parsers are pure exported functions and its iteration is an `async` default function
 * that only talks through `http.asyncRequest`, so a test can import the very same file in Node with
 * the three k6 modules mapped to small shims (an import map, not a rewrite) and drive it against a
 * real server. Row payloads are samples from the virtual users' own generator (devices/vu/payloads),
 * embedded at export time: the k6 load sends the shapes the harness sends.
 */

import { editableColumns, makeRow, rng } from '../../devices/vu/payloads';
import type { SyncRecord } from '../../protocol/records';
import { TABLE_NAMES, type TableName } from '../../protocol/tables';
import { HarnessError } from '../config/errors';
import { mergeThresholdSpecs, parseMetricKey, RFC_THRESHOLDS, type ThresholdSpec } from '../metrics/thresholds';
import type { LoadProfile, ScenarioDefinition } from '../runner/scenario';
import type { ResolvedAdapter } from '../target/types';

/**
 * Where the protocol's fields go on the wire. The default is the contract's shape; a target adapter
 * (harness/target) describes another server's shape, and the exporter writes it into the script.
 */
export interface K6Wire {
  pull: { method: 'GET' | 'POST'; path: string };
  push: { method: 'POST' | 'PUT'; path: string; successCodes: number[] };
  query: { lastPulledAt: string; schemaVersion: string; deviceId: string };
  /** The pull response's time field. */
  timestampField: string;
  timeUnit: 'ms' | 's';
  tables: TableName[];
  /** `test-token`: POST /auth/test-token per device (reference server); `static`: SYNC_TOKEN; `none`. */
  auth: 'test-token' | 'static' | 'none';
  tokenPath: string;
}

export const CONTRACT_WIRE: K6Wire = {
  pull: { method: 'GET', path: '/sync/pull' },
  push: { method: 'POST', path: '/sync/push', successCodes: [200] },
  query: { lastPulledAt: 'lastPulledAt', schemaVersion: 'schemaVersion', deviceId: 'deviceId' },
  timestampField: 'timestamp',
  timeUnit: 'ms',
  tables: [...TABLE_NAMES],
  auth: 'test-token',
  tokenPath: '/auth/test-token',
};

/** Metrics the script emits; thresholds on anything else cannot be evaluated by k6 and are listed as skipped. */
const K6_METRICS: Record<string, 'trend' | 'rate' | 'counter'> = {
  vu_sync_latency_ms: 'trend',
  sync_latency_ms: 'trend',
  vu_sync_success_rate: 'rate',
  sync_success_rate: 'rate',
  conflict_rate: 'rate',
  pushed_records: 'counter',
  pulled_records: 'counter',
};

export interface ExportedThresholds {
  thresholds: Record<string, string[]>;
  skipped: Array<{ key: string; why: string }>;
}

/** The harness threshold grammar is k6's; only the metric set and `min/max` on rates differ. */
export function k6Thresholds(spec: ThresholdSpec): ExportedThresholds {
  const thresholds: Record<string, string[]> = {};
  const skipped: ExportedThresholds['skipped'] = [];
  for (const [key, exprs] of Object.entries(spec)) {
    const name = key.replace(/\{.*$/, '');
    const kind = K6_METRICS[name];
    if (!kind) {
      skipped.push({ key, why: 'not measured by the k6 script (device-, watch- or history-level metric)' });
      continue;
    }
    // The script injects no faults: every sample it records is fault:none.
    const fault = parseMetricKey(key).tags.fault;
    if (fault !== undefined && fault !== 'none') {
      skipped.push({ key, why: `the k6 script injects no faults, so no sync of it is fault:${fault}` });
      continue;
    }
    const out: string[] = [];
    for (const e of exprs) {
      // A harness success rate judged with min/value is one number per run; k6 Rates use `rate`.
      const x = kind === 'rate' ? e.replace(/^\s*(min|max|value|avg)\s*/, 'rate') : e;
      out.push(x);
    }
    thresholds[key] = out;
  }
  return { thresholds, skipped };
}

function k6Executor(p: LoadProfile): Record<string, unknown> {
  const vus = p.users * (p.devicesPerUser ?? 1);
  const sec = (ms: number) => `${Math.max(1, Math.round(ms / 1000))}s`;
  if (p.arrivalRatePerSec)
    return {
      executor: 'constant-arrival-rate',
      rate: p.arrivalRatePerSec,
      timeUnit: '1s',
      duration: sec(p.durationMs ?? 30_000),
      preAllocatedVUs: vus,
      maxVUs: vus * 2,
    };
  if (p.stages?.length)
    return {
      executor: 'ramping-vus',
      startVUs: 0,
      stages: p.stages.map((s) => ({ duration: sec(s.durationMs), target: s.target })),
    };
  return { executor: 'constant-vus', vus, duration: sec(p.durationMs ?? 30_000) };
}

/** The scenario's load profile, or one VU per scenario device for a scenario that declares none. */
export function loadProfileOf(def: ScenarioDefinition): LoadProfile {
  if (def.load) return def.load;
  return { users: 1, devicesPerUser: Math.max(1, Object.keys(def.devices).length), durationMs: 30_000 };
}

export interface ExportK6Options {
  baseUrl?: string;
  wire?: K6Wire;
  seed?: number;
  /** Sample rows embedded per table (default 24). */
  samplesPerTable?: number;
}

export function exportK6(
  def: ScenarioDefinition,
  o: ExportK6Options = {},
): { script: string; skipped: ExportedThresholds['skipped'] } {
  const wire = o.wire ?? CONTRACT_WIRE;
  const profile = loadProfileOf(def);
  const version = profile.schemaVersion ?? 2;
  for (const t of wire.tables)
    if (!TABLE_NAMES.includes(t))
      throw new HarnessError('HRN_ERR_USAGE', `k6 export: unknown table "${t}"; tables: ${TABLE_NAMES.join(', ')}`);
  const r = rng(o.seed ?? 1);
  const samples: Record<string, SyncRecord[]> = {};
  for (const t of wire.tables)
    samples[t] = Array.from({ length: o.samplesPerTable ?? 24 }, (_, i) => {
      const { id: _id, ...row } = makeRow(t, `s${i}`, r, version, 0);
      return row as SyncRecord;
    });
  // Edits touch only what a user edits on a device, as the virtual users do.
  const columns: Record<string, string[]> = {};
  for (const t of wire.tables) columns[t] = editableColumns(t, version);
  const { thresholds, skipped } = k6Thresholds(mergeThresholdSpecs(RFC_THRESHOLDS, def.thresholds));
  const config = {
    scenario: def.name,
    baseUrl: o.baseUrl ?? 'http://127.0.0.1:3000',
    schemaVersion: version,
    devicesPerUser: profile.devicesPerUser ?? 1,
    writesPerSync: profile.writesPerSync ?? 3,
    thinkTimeMs: profile.thinkTimeMs ?? 0,
    wire,
    columns,
    samples,
  };
  const options = {
    scenarios: { sync: k6Executor(profile) },
    thresholds,
    // Sync requests carry the tag `name: pull|push`; group-level timing lives in the custom Trends.
    summaryTrendStats: ['avg', 'min', 'med', 'p(95)', 'p(99)', 'max'],
  };
  const skippedNote = skipped.length ? skipped.map((s) => `//   ${s.key}: ${s.why}`).join('\n') : '//   (none)';
  const script = `// k6 load script for scenario "${def.name}", exported by \`harness export k6\`.
// Run: k6 run -e SYNC_BASE_URL=http://host:port ${def.name}.k6.js
// Distributed: the same file runs on k6-operator (TestRun CR) or the hosted service (k6 cloud run).
// Env: SYNC_BASE_URL (server), SYNC_TOKEN (auth "static"), SYNC_RUN_ID (id prefix; default: time).
// Thresholds of the scenario that k6 cannot evaluate here:
${skippedNote}
import http from 'k6/http';
import { check, sleep } from 'k6';
import { Counter, Rate, Trend } from 'k6/metrics';

export const CONFIG = ${JSON.stringify(config, null, 2)};

export const options = ${JSON.stringify(options, null, 2)};

const vuSyncLatency = new Trend('vu_sync_latency_ms', true);
const syncLatency = new Trend('sync_latency_ms', true);
const vuSuccess = new Rate('vu_sync_success_rate');
const success = new Rate('sync_success_rate');
const conflictRate = new Rate('conflict_rate');
const pushedRecords = new Counter('pushed_records');
const pulledRecords = new Counter('pulled_records');

// --- request builders and parsers: pure, no k6 module used below this line until \`send\` -------

const env = (k) => (typeof __ENV !== 'undefined' && __ENV[k]) || undefined;
export const baseUrl = () => (env('SYNC_BASE_URL') || CONFIG.baseUrl).replace(/\\/$/, '');
const toWire = (ms) => (CONFIG.wire.timeUnit === 's' ? Math.floor(ms / 1000) : ms);
const fromWire = (t) => (CONFIG.wire.timeUnit === 's' ? t * 1000 : t);

/** One device's sync state, as WatermelonDB keeps it. */
export function newDevice(runId, vu) {
  const u = Math.floor((vu - 1) / CONFIG.devicesPerUser);
  const d = (vu - 1) % CONFIG.devicesPerUser;
  return {
    userId: runId + '-u' + u,
    deviceId: runId + '-u' + u + '-d' + d,
    token: undefined,
    lastPulledAt: null,
    rows: {},
    seq: 0,
    rnd: mulberry32(vu * 1000003 + 17),
  };
}

export function mulberry32(a) {
  return function () {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function headers(dev, json) {
  const h = {};
  if (json) h['content-type'] = 'application/json';
  if (CONFIG.wire.auth !== 'none' && dev.token) h.authorization = 'Bearer ' + dev.token;
  return h;
}

export function tokenRequest(dev, platform) {
  return {
    method: 'POST',
    url: baseUrl() + CONFIG.wire.tokenPath,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId: dev.userId, deviceId: dev.deviceId, platform: platform || 'IOS' }),
  };
}

export function pullRequest(dev) {
  const q = CONFIG.wire.query;
  const params = [
    [q.lastPulledAt, dev.lastPulledAt === null ? 0 : toWire(dev.lastPulledAt)],
    [q.schemaVersion, CONFIG.schemaVersion],
    [q.deviceId, dev.deviceId],
  ];
  const qs = params.map(([k, v]) => encodeURIComponent(k) + '=' + encodeURIComponent(String(v))).join('&');
  return { method: CONFIG.wire.pull.method, url: baseUrl() + CONFIG.wire.pull.path + '?' + qs, headers: headers(dev, false), body: null };
}

/** Parses a pull answer into the device; returns the number of rows received, or throws with the reason. */
export function applyPull(dev, status, body) {
  if (status !== 200) throw new Error('pull answered ' + status + ': ' + String(body).slice(0, 200));
  const j = JSON.parse(body);
  const ts = j[CONFIG.wire.timestampField];
  if (typeof ts !== 'number') throw new Error('pull answer has no numeric "' + CONFIG.wire.timestampField + '" field');
  let n = 0;
  for (const t of Object.keys(j.changes || {})) {
    const c = j.changes[t];
    const seen = {};
    for (const bucket of ['created', 'updated']) {
      for (const row of c[bucket] || []) {
        if (seen[row.id]) throw new Error('pull returned ' + t + '#' + row.id + ' twice');
        seen[row.id] = true;
        n++;
      }
    }
    n += (c.deleted || []).length;
  }
  dev.lastPulledAt = fromWire(ts);
  return n;
}

/** The device's local writes for one sync: new rows and edits of its own rows, of the contract's shapes. */
export function localChanges(dev, writes, now) {
  const changes = {};
  for (const t of CONFIG.wire.tables) changes[t] = { created: [], updated: [], deleted: [] };
  for (let i = 0; i < writes; i++) {
    const t = CONFIG.wire.tables[Math.floor(dev.rnd() * CONFIG.wire.tables.length)];
    const own = dev.rows[t] || (dev.rows[t] = []);
    const sample = CONFIG.samples[t][Math.floor(dev.rnd() * CONFIG.samples[t].length)];
    if (own.length && dev.rnd() < 0.4) {
      const row = own[Math.floor(dev.rnd() * own.length)];
      if (changes[t].created.some((r) => r.id === row.id) || changes[t].updated.some((r) => r.id === row.id)) continue;
      const cols = CONFIG.columns[t];
      const col = cols[Math.floor(dev.rnd() * cols.length)];
      row[col] = sample[col];
      if ('updated_at' in row) row.updated_at = now;
      changes[t].updated.push(Object.assign({}, row));
    } else {
      const row = Object.assign({ id: dev.deviceId + '-' + t.slice(0, 2) + '-' + dev.seq++ }, sample);
      if ('updated_at' in row) row.updated_at = now;
      own.push(row);
      changes[t].created.push(Object.assign({}, row));
    }
  }
  return changes;
}

export function countRecords(changes) {
  let n = 0;
  for (const t of Object.keys(changes)) n += changes[t].created.length + changes[t].updated.length + changes[t].deleted.length;
  return n;
}

export function pushRequest(dev, changes, pushId) {
  const body = { changes, lastPulledAt: dev.lastPulledAt === null ? 0 : toWire(dev.lastPulledAt), deviceId: dev.deviceId, pushId };
  return { method: CONFIG.wire.push.method, url: baseUrl() + CONFIG.wire.push.path, headers: headers(dev, true), body: JSON.stringify(body) };
}

/** 'ok' with the number of conflicted records, 'stale' (pull first), or throws with the reason. */
export function pushOutcome(status, body) {
  if (status === 409) return { kind: 'stale', conflicts: 0 };
  if (!CONFIG.wire.push.successCodes.includes(status)) throw new Error('push answered ' + status + ': ' + String(body).slice(0, 200));
  let conflicts = 0;
  try {
    const j = JSON.parse(body);
    conflicts = Array.isArray(j.conflictedRecords) ? j.conflictedRecords.length : 0;
  } catch (_) {}
  return { kind: 'ok', conflicts };
}

// --- the k6 side ------------------------------------------------------------------------------

async function send(req, name) {
  const res = await http.asyncRequest(req.method, req.url, req.body, { headers: req.headers, tags: { name }, timeout: '60s' });
  return { status: res.status, body: res.body };
}

export function setup() {
  return { runId: env('SYNC_RUN_ID') || 'k6-' + CONFIG.scenario + '-' + Date.now().toString(36) };
}

let device;
/** This VU's device state (for tests that drive the script outside k6). */
export const currentDevice = () => device;

/** One sync of one device: pull, local writes, push (re-pull on 409, as WatermelonDB does). */
export default async function (data) {
  if (!device) {
    device = newDevice(data.runId, typeof __VU === 'number' && __VU > 0 ? __VU : 1);
    if (CONFIG.wire.auth === 'test-token') {
      const r = await send(tokenRequest(device), 'token');
      if (!check(r, { 'token 200': (x) => x.status === 200 })) throw new Error('test token: ' + r.status + ' ' + r.body);
      device.token = JSON.parse(r.body).token;
    } else if (CONFIG.wire.auth === 'static') device.token = env('SYNC_TOKEN');
  }
  const t0 = Date.now();
  let ok = false;
  let bytes = 0;
  try {
    const changes = localChanges(device, CONFIG.writesPerSync, Date.now());
    const n = countRecords(changes);
    const pushId = device.deviceId + '-p' + device.seq++;
    for (let attempt = 0; attempt < 3 && !ok; attempt++) {
      const pr = await send(pullRequest(device), 'pull');
      bytes += String(pr.body || '').length;
      pulledRecords.add(applyPull(device, pr.status, pr.body));
      const req = pushRequest(device, changes, pushId);
      bytes += req.body.length;
      const res = await send(req, 'push');
      const out = pushOutcome(res.status, res.body);
      if (out.kind === 'stale') continue;
      pushedRecords.add(n);
      for (let i = 0; i < n; i++) conflictRate.add(i < out.conflicts);
      ok = true;
    }
  } catch (e) {
    console.warn(device.deviceId + ': ' + (e && e.message ? e.message : e));
  }
  const ms = Date.now() - t0;
  vuSyncLatency.add(ms);
  syncLatency.add(ms, { path: 'phone-cloud', payload: bytes < 100 * 1024 ? 'small' : 'large', fault: 'none' });
  vuSuccess.add(ok);
  success.add(ok, { path: 'phone-cloud', fault: 'none' });
  check(ok, { 'sync ok': (x) => x });
  if (CONFIG.thinkTimeMs > 0) sleep((CONFIG.thinkTimeMs * (0.5 + device.rnd())) / 1000);
}
`;
  return { script, skipped };
}

/**
 * The k6 script's wire from a target adapter (harness/target), so `harness export k6 --adapter`
 * loads other teams' servers too. The script runs in k6's own JavaScript runtime, without the
 * gateway: what it cannot express is refused here naming the adapter field, never approximated.
 */
export function k6WireFromAdapter(a: ResolvedAdapter): K6Wire {
  const no = (field: string, why: string): never => {
    throw new HarnessError(
      'HRN_ERR_USAGE',
      `k6 export: adapter "${a.name}" sets ${field}, which the k6 script cannot speak (${why})`,
      'Export with an adapter without that field, or run the load through `harness run --target … --adapter …` instead.',
    );
  };
  for (const [k, p] of Object.entries({
    lastPulledAt: a.pull.lastPulledAt,
    schemaVersion: a.pull.schemaVersion,
    deviceId: a.pull.deviceId,
  }))
    if (p.in !== 'query') no(`pull.${k}.in = "${p.in}"`, 'pull parameters go in the query');
  if (a.pull.firstPull !== 'zero') no(`pull.firstPull = "${a.pull.firstPull}"`, 'the first pull sends 0');
  if (a.pull.changesField !== 'changes') no('pull.changesField', 'the answer holds "changes"');
  if (a.push.body !== 'envelope')
    no('push.body = "changes"', 'the push body is { changes, lastPulledAt, deviceId, pushId }');
  for (const [k, p] of Object.entries({ lastPulledAt: a.push.lastPulledAt, deviceId: a.push.deviceId }))
    if (p.in !== 'body' || p.name !== k) no(`push.${k}`, `the push body carries "${k}"`);
  if (a.columns !== 'identity' || Object.keys(a.tableNames).length)
    no('columns / tableNames', 'rows keep the contract names');
  const auth =
    a.auth.kind === 'test-token'
      ? 'test-token'
      : a.auth.kind === 'bearer'
        ? 'static'
        : a.auth.kind === 'none'
          ? 'none'
          : no(`auth.kind = "${a.auth.kind}"`, 'test-token, bearer (SYNC_TOKEN) or none');
  return {
    pull: { method: a.pull.method, path: a.pull.path },
    push: { method: a.push.method, path: a.push.path, successCodes: a.push.okStatus },
    query: {
      lastPulledAt: a.pull.lastPulledAt.name,
      schemaVersion: a.pull.schemaVersion.name,
      deviceId: a.pull.deviceId.name,
    },
    timestampField: a.pull.timestampField,
    timeUnit: a.timeUnit,
    tables: [...a.tables],
    auth,
    tokenPath: a.auth.kind === 'test-token' ? (a.auth.path ?? '/auth/test-token') : '/auth/test-token',
  };
}
