/**
 * `harness probe --target URL`: finds out what an unknown sync server speaks (health path, auth,
 * pull path and parameter names, the answer's time field and unit, tables, column naming, push
 * codes) by trying the shapes real WatermelonDB backends use, then prints the findings and writes a
 * starter adapter. Every request is harmless: pulls, and a push of no changes.
 */
import { randomUUID } from 'node:crypto';
import type { AuthSpec, TargetAdapter } from './types';

export interface Finding {
  what: string;
  found: string;
  how: string;
}

interface Discovered {
  findings: Finding[];
  adapter: TargetAdapter;
  /** Source of the starter adapter file. */
  file: string;
}

const TIMEOUT = 5000;

async function req(url: string, init: RequestInit = {}): Promise<{ status: number; json: unknown; text: string }> {
  try {
    const r = await fetch(url, { ...init, signal: AbortSignal.timeout(TIMEOUT) });
    const text = await r.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: r.status, json, text };
  } catch (e) {
    return { status: 0, json: undefined, text: (e as Error).message };
  }
}

const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

export async function discoverTarget(base: string, log: (l: string) => void = () => {}): Promise<Discovered> {
  const url = base.replace(/\/$/, '');
  const findings: Finding[] = [];
  const add = (what: string, found: string, how: string) => {
    findings.push({ what, found, how });
    log(`${what}: ${found} (${how})`);
  };
  const user = `probe-${randomUUID().slice(0, 8)}`;
  const device = `${user}-dev`;

  let health: string | undefined;
  for (const p of ['/healthz', '/health', '/api/health', '/sync/health', '/api/healthz']) {
    if ((await req(url + p)).status === 200) {
      health = p;
      break;
    }
  }
  add('health', health ?? 'none answered 200', 'GET /healthz, /health, /api/health, /sync/health');

  let token: string | undefined;
  let auth: AuthSpec = { kind: 'none' };
  const tt = await req(`${url}/auth/test-token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId: user, deviceId: device, platform: 'IOS' }),
  });
  if (tt.status === 200 && isObj(tt.json) && typeof tt.json.token === 'string') {
    token = tt.json.token;
    auth = { kind: 'test-token' };
  } else {
    for (const p of ['/api/login', '/login', '/auth/login', '/api/auth/login']) {
      const r = await req(url + p, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: user, userId: user, device: device, deviceId: device }),
      });
      if (r.status >= 200 && r.status < 300 && isObj(r.json)) {
        const field = ['accessToken', 'access_token', 'token', 'jwt'].find(
          (k) => typeof (r.json as never)[k] === 'string',
        );
        if (field) {
          token = (r.json as Record<string, string>)[field];
          auth = {
            kind: 'login',
            path: p,
            body: ({ userId, deviceId }) => ({ username: userId, device: deviceId }),
            tokenField: field,
          };
          break;
        }
      }
    }
  }
  add(
    'auth',
    auth.kind === 'login' ? `login at ${auth.path} (token in "${auth.tokenField}")` : auth.kind,
    'POST /auth/test-token, then /api/login, /login, /auth/login',
  );
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};

  // Pull: the first shape that answers 200 with a changes object.
  const names = [
    { lp: 'lastPulledAt', sv: 'schemaVersion', dev: 'deviceId' },
    { lp: 'last_pulled_at', sv: 'schema_version', dev: 'device_id' },
  ];
  let pull:
    | { path: string; n: (typeof names)[number]; first: 'zero' | 'null'; json: Record<string, unknown> }
    | undefined;
  search: for (const path of ['/sync/pull', '/api/sync/pull', '/sync', '/api/sync', '/api/v1/sync/pull'])
    for (const n of names)
      for (const first of ['zero', 'null'] as const) {
        const q = `${n.lp}=${first === 'zero' ? 0 : 'null'}&${n.sv}=2&${n.dev}=${device}`;
        const r = await req(`${url}${path}?${q}`, { headers });
        if (r.status === 200 && isObj(r.json) && isObj(r.json.changes)) {
          pull = { path, n, first, json: r.json };
          break search;
        }
      }
  if (!pull) {
    add('pull', 'not found', 'GET {/sync/pull,/api/sync/pull,/sync,/api/sync}?{lastPulledAt,last_pulled_at}={0,null}');
    const adapter: TargetAdapter = { name: 'starter', ...(health ? { health: { path: health } } : {}), auth };
    return { findings, adapter, file: adapterFile(adapter, findings) };
  }
  add(
    'pull',
    `GET ${pull.path}?${pull.n.lp}=…&${pull.n.sv}=…&${pull.n.dev}=…`,
    `first pull sent as ${pull.first === 'zero' ? '0' : 'null'}`,
  );
  const tsField = ['timestamp', 'lastPulledAt', 'last_pulled_at', 'serverTime', 'now'].find(
    (k) => typeof pull!.json[k] === 'number',
  );
  const ts = tsField ? (pull.json[tsField] as number) : undefined;
  const unit: 'ms' | 's' = ts !== undefined && ts < 1e11 ? 's' : 'ms';
  add(
    'time field',
    tsField ?? 'none found',
    ts !== undefined ? `${ts}: ${unit === 's' ? 'seconds' : 'milliseconds'}` : 'no numeric field',
  );
  const tables = Object.keys(pull.json.changes as object);
  add('tables', tables.join(', ') || 'none', "keys of the first pull's changes");

  // Push: an empty change set, in the contract's envelope or as the bare changes object.
  const pushPaths = pull.path.endsWith('/pull') ? [pull.path.replace(/\/pull$/, '/push')] : [pull.path];
  let push: { path: string; status: number; body: 'envelope' | 'changes'; inQuery: boolean } | undefined;
  for (const path of pushPaths)
    for (const body of ['envelope', 'changes'] as const)
      for (const inQuery of [false, true]) {
        const q = inQuery ? `?${pull.n.lp}=${ts ?? 0}&${pull.n.dev}=${device}` : '';
        const payload =
          body === 'envelope' ? { changes: {}, ...(inQuery ? {} : { lastPulledAt: ts ?? 0, deviceId: device }) } : {};
        const r = await req(url + path + q, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json', 'x-schema-version': '2' },
          body: JSON.stringify(payload),
        });
        if (r.status >= 200 && r.status < 300) {
          push = { path, status: r.status, body, inQuery };
          break;
        }
      }
  add(
    'push',
    push ? `POST ${push.path} answered ${push.status}` : 'no shape answered 2xx',
    push
      ? `${push.body === 'envelope' ? '{ changes, … }' : 'the changes object'} with lastPulledAt in the ${push.inQuery ? 'query' : 'body'}`
      : 'empty pushes in both body shapes',
  );

  const contractNames = pull.n.lp === 'lastPulledAt';
  const adapter: TargetAdapter = {
    name: 'starter',
    ...(health && health !== '/healthz' ? { health: { path: health } } : {}),
    ...(unit === 's' ? { timeUnit: 's' } : {}),
    pull: {
      path: pull.path,
      ...(contractNames
        ? {}
        : {
            lastPulledAt: { in: 'query', name: pull.n.lp },
            schemaVersion: { in: 'query', name: pull.n.sv },
            deviceId: { in: 'query', name: pull.n.dev },
          }),
      ...(pull.first === 'null' ? { firstPull: 'null' } : {}),
      ...(tsField && tsField !== 'timestamp' ? { timestampField: tsField } : {}),
    },
    ...(push
      ? {
          push: {
            path: push.path,
            ...(push.status !== 200 ? { okStatus: [push.status] } : {}),
            ...(push.body === 'changes' ? { body: 'changes' as const } : {}),
            ...(push.inQuery
              ? { lastPulledAt: { in: 'query', name: pull.n.lp }, deviceId: { in: 'query', name: pull.n.dev } }
              : {}),
          },
        }
      : {}),
    auth,
    ...(tables.length && tables.length < 6 ? { tables: tables as never } : {}),
  };
  return { findings, adapter, file: adapterFile(adapter, findings) };
}

function adapterFile(a: TargetAdapter, findings: Finding[]): string {
  const authSrc =
    a.auth?.kind === 'login'
      ? `{ kind: 'login', path: '${a.auth.path}', body: ({ userId, deviceId }) => ({ username: userId, device: deviceId }), tokenField: '${a.auth.tokenField}' }`
      : JSON.stringify(a.auth);
  const { auth: _a, ...rest } = a;
  const body = JSON.stringify(rest, null, 2).replace(/\n}$/, `,\n  "auth": ${authSrc}\n}`);
  return `// Starter adapter written by \`harness probe\`. Check every field (README "Testing your own server"),
// then: harness run @target --target <url> --adapter <this file>
${findings.map((f) => `//   ${f.what}: ${f.found} (${f.how})`).join('\n')}
import { defineAdapter } from '../harness/index'; // adjust the path to harness/index

export default defineAdapter(${body});
`;
}
