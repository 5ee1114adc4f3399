/**
 * HTTP for virtual users from their own source addresses. Thousands of phones reach a server from
 * thousands of addresses; a load generator on one machine would send them all from 127.0.0.1 and
 * run into the server's per-address connection cap (server/connection-limits.ts: 2048), which then
 * resets connections — the generator's deviation, not the server's fault. On loopback, Linux routes
 * all of 127.0.0.0/8 to `lo`, so each VU gets an address of its own range.
 *
 * The fetch here is the subset SyncHttpClient uses (method, headers, byte body, abort signal; status,
 * headers, text), over node:http with a keep-alive Agent bound to the source address. The default on
 * a loopback server is socket-transport.ts's leaner client on raw sockets (slice.ts has the figures).
 */
import { Agent, request } from 'node:http';
import { isIP } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { BufferedResponse, ResponseHeaders } from './buffered-response';
import { splitTarget } from './origin';
import { closeSocketTransports } from './socket-transport';

/** Whether `url` is served on this machine's loopback (where source addresses can be spread). */
export function isLoopback(url: string): boolean {
  const h = new URL(url).hostname;
  return h === 'localhost' || (isIP(h) === 4 && h.startsWith('127.'));
}

/** The k-th source address of the spread: 127.0.1.1 … 127.0.1.250, 127.0.2.1 … (never 127.0.0.1). */
export function sourceAddress(k: number): string {
  return `127.0.${1 + Math.floor(k / 250)}.${1 + (k % 250)}`;
}

const agents = new Map<string, Agent>();
/**
 * Agents of fetches that keep connections of their own (closed at a run's end too). Every first-sync
 * device makes one, so agents left with no socket are dropped whenever the set has doubled (a long
 * soak must not keep one per device it ever started); a request registers its agent again.
 */
const ownAgents = new Set<Agent>();
let pruneOwnAgentsAt = 64;
function addOwnAgent(agent: Agent): void {
  ownAgents.add(agent);
  if (ownAgents.size < pruneOwnAgentsAt) return;
  const empty = (o: NodeJS.ReadOnlyDict<unknown[]>) => Object.values(o).every((l) => !l?.length);
  for (const a of ownAgents) if (empty(a.sockets) && empty(a.freeSockets) && empty(a.requests)) ownAgents.delete(a);
  pruneOwnAgentsAt = Math.max(64, 2 * ownAgents.size);
}

/** host, port and path of a URL, the origin parsed once (a VU only ever talks to one server). */
const origins = new Map<string, { hostname: string; port: number }>();
function target(href: string): { hostname: string; port: number; path: string } {
  const { origin, path } = splitTarget(origins, href, (u) => ({
    hostname: u.hostname.replace(/^\[|\]$/g, ''),
    port: Number(u.port || 80),
  }));
  return { ...origin, path };
}

/**
 * A fetch over node:http with one keep-alive pool per source address (`localAddress`; undefined: the
 * system's choice), or one of its own (`ownConnections`, as socketFetchFrom). Only buffered
 * request/response bodies: no streaming responses (the load generator's VUs never open the events stream).
 */
export function fetchFrom(localAddress?: string, opts: { ownConnections?: boolean } = {}): typeof fetch {
  const key = localAddress ?? '';
  let agent = opts.ownConnections ? undefined : agents.get(key);
  if (!agent) {
    agent = new Agent({ keepAlive: true, ...(localAddress ? { localAddress } : {}) });
    if (opts.ownConnections) addOwnAgent(agent);
    else agents.set(key, agent);
  }
  const pool = agent;
  return ((input: string | URL | Request, init?: RequestInit) =>
    new Promise<Response>((resolve, reject) => {
      const url = target(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
      // Registered again on use: a pruned agent (it had no socket) may be about to open one.
      if (opts.ownConnections) ownAgents.add(pool);
      const req = request(
        {
          ...url,
          method: init?.method ?? 'GET',
          headers: (init?.headers ?? {}) as Record<string, string>,
          agent: pool,
          ...(init?.signal ? { signal: init.signal } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (e) => reject(new TypeError('fetch failed', { cause: e })));
          res.on('end', () => {
            try {
              let buf = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
              const gz = res.headers['content-encoding'] === 'gzip';
              if (gz) buf = gunzipSync(buf);
              // Headers as fetch leaves them: an inflated body keeps its content-encoding (and length),
              // which tells SyncHttpClient its Content-Digest is over the gzip bytes, not these. With
              // the header dropped, every pull over the gzip threshold failed its digest check.
              const headers = new ResponseHeaders(res.headers);
              resolve(new BufferedResponse(res.statusCode ?? 500, headers, buf) as unknown as Response);
            } catch (e) {
              reject(new TypeError('fetch failed', { cause: e }));
            }
          });
        },
      );
      // As fetch does: a network failure is a TypeError "fetch failed" whose cause says what happened.
      req.on('error', (e) =>
        reject(init?.signal?.aborted ? init.signal.reason : new TypeError('fetch failed', { cause: e })),
      );
      const body = init?.body;
      req.end(body === undefined || body === null ? undefined : Buffer.from(body as Uint8Array));
    })) as typeof fetch;
}

/** Close every pooled connection (end of a run). */
export function closeTransports(): void {
  for (const a of [...agents.values(), ...ownAgents]) a.destroy();
  agents.clear();
  ownAgents.clear();
  pruneOwnAgentsAt = 64;
  closeSocketTransports();
}
