/**
 * Runs the fuzz against a started server over real HTTP (no 5xx allowed but 501, which the file
 * routes answer on a server without an object store), one request at a time so every rejected
 * request can be checked to have written nothing (a fingerprint of the synced tables, the
 * idempotency records and the user stamps before and after). Stalls run beside the others and
 * must be closed by the server within `stallBoundMs`.
 */
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { TABLE_NAMES } from '../../protocol/tables';
import type { StartedSyncServer } from '../app';
import { q } from '../schema';
import { FuzzGenerator, type FuzzRequest, type FuzzState } from './generate';

export interface FuzzOptions {
  count: number;
  seed: number;
  /** A stalled connection must be closed by the server within this many ms. */
  stallBoundMs: number;
  /** Called every 1000 requests. */
  progress?: (done: number) => void;
}

export interface FuzzResult {
  seed: number;
  requests: number;
  /** Status code (or "closed" for a stalled connection the server closed without answering) -> count. */
  histogram: Record<string, number>;
  byKind: Record<string, Record<string, number>>;
  /** Every broken promise: a 5xx, a write by a rejected request, a stall held too long, a dead server. */
  violations: string[];
  durationMs: number;
}

const FINGERPRINT = `SELECT ${[
  ...TABLE_NAMES.map(
    (t) =>
      `(SELECT count(*) || ':' || coalesce(sum(_stamp), 0) || ':' || coalesce(sum(hashtext(${q(t)}::text)), 0) FROM ${q(t)})`,
  ),
  `(SELECT count(*) FROM push_results)`,
  `(SELECT coalesce(sum(stamp), 0) FROM user_stamps)`,
].join(" || '|' || ")} AS fp`;

async function token(url: string, userId: string, deviceId: string): Promise<string> {
  const r = await fetch(`${url}/auth/test-token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId, deviceId, platform: 'IOS' }),
  });
  if (!r.ok) throw new Error(`fuzz setup: test-token answered ${r.status}: ${await r.text()}`);
  return ((await r.json()) as { token: string }).token;
}

function send(agent: Agent, port: number, req: FuzzRequest): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const r = request(
      {
        host: '127.0.0.1',
        port,
        agent,
        method: req.method,
        path: req.path,
        headers: { ...req.headers, ...(req.body ? { 'content-length': String(req.body.length) } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    r.on('error', reject);
    r.end(req.body);
  });
}

function stall(port: number, bytes: Buffer): Promise<{ ms: number; answer: string }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let answer = '';
    const s = connect(port, '127.0.0.1', () => {
      if (bytes.length) s.write(bytes);
    });
    s.on('data', (d) => {
      answer += d.toString();
    });
    s.on('error', () => {});
    s.on('close', () => resolve({ ms: performance.now() - t0, answer }));
  });
}

export async function runFuzz(server: StartedSyncServer, opts: FuzzOptions): Promise<FuzzResult> {
  const started = performance.now();
  const pool = server.app.sync.pool;
  const deviceId = `fz-dev-${opts.seed}`;
  const state: FuzzState = {
    token: await token(server.url, `fz-user-${opts.seed}`, deviceId),
    otherUserToken: await token(server.url, `fz-other-${opts.seed}`, `fz-other-dev-${opts.seed}`),
    deviceId,
    lastPulledAt: 0,
  };
  const gen = new FuzzGenerator(opts.seed);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const histogram: Record<string, number> = {};
  const byKind: Record<string, Record<string, number>> = {};
  const violations: string[] = [];
  const count = (kind: string, status: string) => {
    histogram[status] = (histogram[status] ?? 0) + 1;
    byKind[kind] ??= {};
    byKind[kind][status] = (byKind[kind][status] ?? 0) + 1;
  };
  const fingerprint = async () => (await pool.query(FINGERPRINT)).rows[0].fp as string;
  const stalls: Promise<void>[] = [];
  let prev = await fingerprint();
  for (let i = 0; i < opts.count; i++) {
    const req = gen.next(state);
    if (req.stall) {
      stalls.push(
        stall(server.port, req.stall).then(({ ms, answer }) => {
          const status = /^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 'closed';
          count(req.kind, status);
          if (ms > opts.stallBoundMs)
            violations.push(`#${i} stall held ${Math.round(ms)} ms > ${opts.stallBoundMs} ms`);
          if (status.startsWith('5')) violations.push(`#${i} stall answered ${status}`);
        }),
      );
      continue;
    }
    let res: { status: number; body: string };
    try {
      res = await send(agent, server.port, req);
    } catch (e) {
      count(req.kind, 'reset');
      violations.push(`#${i} ${req.kind} ${req.method} ${req.path}: connection failed (${(e as Error).message})`);
      continue;
    }
    count(req.kind, String(res.status));
    // 501 is the file routes of a server started without an object store: declared, not a failure.
    if (res.status >= 500 && res.status !== 501)
      violations.push(
        `#${i} ${req.kind} ${req.method} ${req.path.slice(0, 80)} → ${res.status} ${res.body.slice(0, 200)}`,
      );
    if (res.status === 200 && req.path.startsWith('/sync/pull')) {
      const ts = (JSON.parse(res.body) as { timestamp: number }).timestamp;
      state.lastPulledAt = Math.max(state.lastPulledAt, ts);
    }
    if (req.path.startsWith('/sync/') || req.path.startsWith('/files/')) {
      const now = await fingerprint();
      if (res.status !== 200 && now !== prev)
        violations.push(`#${i} ${req.kind} answered ${res.status} but changed the database`);
      prev = now;
    }
    if ((i + 1) % 1000 === 0) opts.progress?.(i + 1);
  }
  await Promise.all(stalls);
  // Still answering: health, and a normal pull then push.
  try {
    const h = await fetch(`${server.url}/healthz`);
    if (h.status !== 200) violations.push(`after the fuzz /healthz answered ${h.status}`);
    const auth = { authorization: `Bearer ${state.token}` };
    const p = await fetch(`${server.url}/sync/pull?lastPulledAt=0&schemaVersion=2&deviceId=${deviceId}`, {
      headers: auth,
    });
    const { timestamp } = (await p.json()) as { timestamp: number };
    const push = await fetch(`${server.url}/sync/push`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({
        changes: { goals: { created: [{ id: `fz-final-${opts.seed}` }], updated: [], deleted: [] } },
        lastPulledAt: timestamp,
        deviceId,
      }),
    });
    if (p.status !== 200 || push.status !== 200)
      violations.push(`after the fuzz a normal sync failed: pull ${p.status}, push ${push.status}`);
  } catch (e) {
    violations.push(`after the fuzz the server does not answer: ${(e as Error).message}`);
  }
  agent.destroy();
  return {
    seed: opts.seed,
    requests: opts.count,
    histogram,
    byKind,
    violations,
    durationMs: performance.now() - started,
  };
}
