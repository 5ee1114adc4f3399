/**
 * The adapter gateway: an HTTP server between the harness's devices (and its own reads) and a target
 * server. Devices speak the contract to it; it checks every request against the contract (a request
 * that deviates is the harness's own bug, answered 400 `HRN_ERR_HARNESS_DEVIATION` and recorded, so
 * the target is never blamed for it) and translates it through the target's adapter. Where the
 * target's answer does not fit the adapter, it answers 502 `HRN_ERR_ADAPTER` naming the adapter
 * field to set, again never a finding against the target.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import type { DatabaseChanges, Platform, PushRequest } from '../../protocol/records';
import { isTableName, type TableName } from '../../protocol/tables';
import { parseDeviceId, parseSchemaVersion, validatePushBody } from '../../protocol/validate';
import { safeJson, TargetAuth } from './auth';
import type { ResolvedAdapter } from './types';
import { AdapterMismatch, DELIBERATE_HEADER, pullAnswer, pullRequest, pushAnswer, pushRequest } from './wire';

export interface GatewayProblem {
  kind: 'deviation' | 'adapter';
  method: string;
  path: string;
  message: string;
}

export interface Gateway {
  url: string;
  /** Requests of the harness that broke the contract, and target answers the adapter did not describe. */
  problems(): GatewayProblem[];
  /** Answers of the target by endpoint and status (`push 201: 14`). */
  statusCounts(): Record<string, number>;
  close(): Promise<void>;
}

export interface GatewayOptions {
  targetUrl: string;
  adapter: ResolvedAdapter;
  port?: number;
}

const PULL_QUERY = new Set(['lastPulledAt', 'schemaVersion', 'deviceId', 'tables']);
const MAX_BODY = 64 * 1024 * 1024;
const PASS_HEADERS = ['authorization', 'content-type', 'content-encoding', 'x-schema-version', 'accept'];

class Deviation extends Error {}

type PullParams = { lastPulledAt: number | null; schemaVersion: number; deviceId: string; tables?: TableName[] };

export async function startGateway(opts: GatewayOptions): Promise<Gateway> {
  const a = opts.adapter;
  const target = opts.targetUrl.replace(/\/$/, '');
  const auth = new TargetAuth(a, target);
  const problems: GatewayProblem[] = [];
  const counts: Record<string, number> = {};
  const count = (k: string) => {
    counts[k] = (counts[k] ?? 0) + 1;
  };

  const send = (res: ServerResponse, status: number, body: unknown) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(text);
  };
  const problem = (res: ServerResponse, p: GatewayProblem) => {
    if (problems.length < 1000) problems.push(p);
    const code = p.kind === 'deviation' ? 'HRN_ERR_HARNESS_DEVIATION' : 'HRN_ERR_ADAPTER';
    send(res, p.kind === 'deviation' ? 400 : 502, { error: { code, message: p.message } });
  };

  /** One request to the target; a 401 for a token the adapter can renew is retried once with a new one. */
  const upstream = async (
    req: IncomingMessage,
    method: string,
    url: string,
    headers: Record<string, string>,
    body?: string,
  ) => {
    for (let attempt = 0; ; attempt++) {
      const authorization = await auth.header(req.headers.authorization, attempt > 0);
      const res = await fetch(target + url, {
        method,
        headers: { ...headers, ...(authorization ? { authorization } : {}), 'accept-encoding': 'gzip' },
        body,
      });
      if (res.status === 401 && attempt === 0 && auth.canRefresh(req.headers.authorization)) {
        await res.arrayBuffer();
        continue;
      }
      return res;
    }
  };

  const readBody = (req: IncomingMessage) =>
    new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let n = 0;
      req.on('data', (c: Buffer) => {
        n += c.length;
        if (n > MAX_BODY) req.destroy(new Error('body too large for the gateway'));
        else chunks.push(c);
      });
      req.on('end', () => resolve(Buffer.concat(chunks)));
      req.on('error', reject);
    });

  /** Contract checks of the harness's own requests (sync-contract.md), the same rules the reference server applies. */
  const checkPull = (q: URLSearchParams, deliberate: boolean): PullParams => {
    const tables = q.get('tables')?.split(',');
    if (deliberate) {
      // A probe's deliberate edge case (absent or `null` lastPulledAt…): translated as far as it goes.
      const n = Number(q.get('lastPulledAt'));
      return {
        lastPulledAt: Number.isSafeInteger(n) && n > 0 ? n : null,
        schemaVersion: Number(q.get('schemaVersion') ?? 2),
        deviceId: q.get('deviceId') ?? '',
        ...(tables ? { tables: tables as TableName[] } : {}),
      };
    }
    for (const k of q.keys())
      if (!PULL_QUERY.has(k)) throw new Deviation(`pull query has parameter "${k}" the contract does not define`);
    const lp = q.get('lastPulledAt') ?? '';
    if (!/^\d{1,16}$/.test(lp))
      throw new Deviation(
        `pull query lastPulledAt must be an integer of ms (0 on the first pull), got ${JSON.stringify(lp)}`,
      );
    for (const t of tables ?? [])
      if (!isTableName(t)) throw new Deviation(`pull query tables names unknown table "${t}"`);
    try {
      return {
        lastPulledAt: Number(lp),
        schemaVersion: parseSchemaVersion(q.get('schemaVersion')),
        deviceId: parseDeviceId(q.get('deviceId')),
        ...(tables ? { tables: tables as TableName[] } : {}),
      };
    } catch (e) {
      throw new Deviation(`pull query: ${(e as Error).message}`);
    }
  };

  const checkPushBody = (raw: Buffer, req: IncomingMessage, deliberate: boolean): PushRequest => {
    if (/gzip/i.test(String(req.headers['content-encoding'] ?? ''))) raw = gunzipSync(raw);
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw));
    } catch (e) {
      if (deliberate) return { changes: {}, lastPulledAt: 0, deviceId: '' };
      throw new Deviation(`push body is not UTF-8 JSON: ${(e as Error).message}`);
    }
    if (deliberate) return parsed as PushRequest;
    let valid: PushRequest;
    try {
      valid = validatePushBody(parsed, parseSchemaVersion(req.headers['x-schema-version'] ?? '2'));
    } catch (e) {
      throw new Deviation(`push body: ${(e as Error).message}`);
    }
    // The validated body holds the table's columns only: WatermelonDB's _status/_changed stay behind
    // unless the adapter asks to keep them (then the body goes on as the device sent it).
    return a.push.bookkeeping === 'strip' ? valid : (parsed as PushRequest);
  };

  const handlePull = async (req: IncomingMessage, res: ServerResponse, q: URLSearchParams) => {
    const deliberate = !!req.headers[DELIBERATE_HEADER];
    const p = checkPull(q, deliberate);
    if (!req.headers.authorization && !deliberate) throw new Deviation('pull without an Authorization header');
    const asked = p.tables;
    const served = asked?.filter((t) => a.tables.includes(t));
    const out = pullRequest(a, { ...p, tables: served?.length ? served : undefined });
    const r = await upstream(
      req,
      out.method,
      out.url,
      out.headers,
      out.body === undefined ? undefined : JSON.stringify(out.body),
    );
    const text = await r.text();
    count(`pull ${r.status}`);
    const answer = pullAnswer(a, r.status, safeJson(text), asked);
    if (!answer) return send(res, r.status, text);
    if (asked)
      for (const t of Object.keys(answer.changes) as TableName[]) if (!asked.includes(t)) delete answer.changes[t];
    send(res, 200, answer);
  };

  const handlePush = async (req: IncomingMessage, res: ServerResponse) => {
    const deliberate = !!req.headers[DELIBERATE_HEADER];
    const body = checkPushBody(await readBody(req), req, deliberate);
    if (!req.headers.authorization && !deliberate) throw new Deviation('push without an Authorization header');
    const version = Number(req.headers['x-schema-version'] ?? 2);
    const changes: DatabaseChanges = {};
    const all = (body.changes ?? {}) as Record<string, Partial<NonNullable<DatabaseChanges[TableName]>>>;
    for (const [t, tc] of Object.entries(all)) {
      const n = (tc?.created?.length ?? 0) + (tc?.updated?.length ?? 0) + (tc?.deleted?.length ?? 0);
      // A deliberate unknown table is passed on (the target must refuse it with a 4xx, never a 5xx).
      if (a.tables.includes(t as TableName) || (deliberate && !isTableName(t)))
        (changes as Record<string, unknown>)[t] = tc;
      else if (n)
        throw new AdapterMismatch(
          `the scenario wrote ${n} ${t} rows but adapter.tables (${a.tables.join(', ')}) says the target does not serve ${t}: add it to adapter.tables, or run scenarios that use only those tables`,
          'tables',
        );
    }
    const out = pushRequest(a, { ...body, changes }, version);
    const r = await upstream(req, out.method, out.url, out.headers, JSON.stringify(out.body));
    const text = await r.text();
    count(`push ${r.status}`);
    const answer = pushAnswer(a, r.status, safeJson(text), body.lastPulledAt);
    if (!answer) return send(res, r.status, text);
    send(res, 200, answer);
  };

  /** The contract's own shape: checked, then passed on byte for byte (and streamed, for the events stream). */
  const passThrough = async (req: IncomingMessage, res: ServerResponse, url: string, body?: Buffer) => {
    const headers: Record<string, string> = {};
    for (const h of PASS_HEADERS) if (typeof req.headers[h] === 'string') headers[h] = req.headers[h] as string;
    const r = await fetch(target + url, {
      method: req.method,
      headers,
      body: body?.length ? new Uint8Array(body) : undefined,
    });
    count(`${url.split('?')[0]} ${r.status}`);
    const out: Record<string, string> = {};
    r.headers.forEach((v, k) => {
      if (!['content-encoding', 'content-length', 'transfer-encoding', 'connection'].includes(k)) out[k] = v;
    });
    res.writeHead(r.status, out);
    if (!r.body) return void res.end();
    const reader = r.body.getReader();
    res.on('close', () => void reader.cancel().catch(() => {}));
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      res.write(value);
    }
    res.end();
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const u = new URL(req.url ?? '/', 'http://gateway');
    const route = `${req.method} ${u.pathname}`;
    if (route === 'GET /healthz') {
      const r = await fetch(target + a.health.path).catch(() => undefined);
      return send(res, r?.ok ? 200 : 503, { ok: !!r?.ok, target: a.name });
    }
    if (route === 'POST /auth/test-token') {
      const b = safeJson((await readBody(req)).toString()) as {
        userId: string;
        deviceId: string;
        platform: Platform;
        expiresInSeconds?: number;
      };
      const r = await auth.issue(b);
      return send(res, r.status, r.body);
    }
    if (a.isContract) {
      const deliberate = !!req.headers[DELIBERATE_HEADER];
      if (route === 'GET /sync/pull') checkPull(u.searchParams, deliberate);
      const body = req.method === 'GET' ? undefined : await readBody(req);
      if (route === 'POST /sync/push' && body && !deliberate) {
        const push = checkPushBody(body, req, deliberate);
        if (a.push.bookkeeping === 'strip') {
          delete req.headers['content-encoding'];
          return passThrough(req, res, u.pathname + u.search, Buffer.from(JSON.stringify(push)));
        }
      }
      return passThrough(req, res, u.pathname + u.search, body);
    }
    if (route === 'GET /sync/pull') return handlePull(req, res, u.searchParams);
    if (route === 'POST /sync/push') return handlePush(req, res);
    if (u.pathname === '/sync/events' || u.pathname.startsWith('/files/'))
      return send(res, 501, {
        error: {
          code: 'HRN_ERR_ADAPTER_UNSUPPORTED',
          message: `${u.pathname} is not translated for adapter "${a.name}" (capabilities.${u.pathname.startsWith('/files') ? 'files' : 'pokes'} is false)`,
        },
      });
    send(res, 404, { error: { code: 'HRN_ERR_NOT_FOUND', message: `the gateway has no route ${route}` } });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: Error) => {
      const base = { method: req.method ?? '?', path: (req.url ?? '').split('?')[0] };
      if (res.headersSent) return void res.destroy();
      if (e instanceof Deviation) return problem(res, { kind: 'deviation', ...base, message: e.message });
      if (e instanceof AdapterMismatch) return problem(res, { kind: 'adapter', ...base, message: e.message });
      // The target could not be reached or cut the connection: the device sees a cut connection too,
      // so its outcome stays "indeterminate" for a push, exactly as without the gateway.
      res.destroy();
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    problems: () => [...problems],
    statusCounts: () => ({ ...counts }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
