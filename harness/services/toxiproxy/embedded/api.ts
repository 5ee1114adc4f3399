/**
 * Toxiproxy's HTTP management API (section 3), with its status codes, error bodies and check order.
 * Every request runs through one queue so API changes apply one at a time, as the real server's
 * locks do; a response is sent only once every live link runs the new chain.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { decodeStruct, type GoObject, JsonDecodeError, type JsonValue, jsonKind, parseFirstValue } from './json';
import { ApiError, Errors, type ProxyContext, ProxyEntry } from './proxy';
import { isToxicType, TOXIC_ATTRIBUTES, ToxicConfig } from './toxics';

export const EMULATED_VERSION = '2.12.0';

interface Reply {
  status: number;
  body?: unknown;
  /** Raw body and content type (version, populate), bypassing JSON.stringify. */
  raw?: string;
  type?: string;
}

type Handler = (params: string[], body: string) => Promise<Reply> | Reply;

interface Route {
  pattern: RegExp;
  methods: Record<string, Handler>;
  /** Handles every method (mux's Handle without Methods). */
  any?: Handler;
}

function badBody(e: unknown): ApiError {
  if (e instanceof JsonDecodeError) return new ApiError(`bad request body: ${e.message}`, 400);
  throw e;
}

function decode<T>(body: string, fn: (v: JsonValue) => T): T {
  try {
    return fn(parseFirstValue(body));
  } catch (e) {
    throw badBody(e);
  }
}

const PROXY_FIELDS = { name: 'string', listen: 'string', upstream: 'string', enabled: 'bool' } as const;
const TOXIC_FIELDS = { name: 'string', type: 'string', stream: 'string', toxicity: 'float32' } as const;

interface ProxyInput {
  name?: string;
  listen?: string;
  upstream?: string;
  enabled?: boolean;
}

export class ToxiproxyApi {
  private readonly proxies = new Map<string, ProxyEntry>();
  private queue: Promise<unknown> = Promise.resolve();
  private readonly routes: Route[];

  constructor(private readonly ctx: ProxyContext) {
    this.routes = [
      { pattern: /^\/reset$/, methods: { POST: () => this.reset() } },
      { pattern: /^\/proxies$/, methods: { GET: () => this.index(), POST: (_, b) => this.create(b) } },
      { pattern: /^\/populate$/, methods: { POST: (_, b) => this.populate(b) } },
      {
        pattern: /^\/proxies\/([^/]+)$/,
        methods: {
          GET: ([p]) => ({ status: 200, body: this.get(p!) }),
          POST: ([p], b) => this.update(p!, b),
          PATCH: ([p], b) => this.update(p!, b),
          DELETE: ([p]) => this.remove(p!),
        },
      },
      {
        pattern: /^\/proxies\/([^/]+)\/toxics$/,
        methods: {
          GET: ([p]) => ({ status: 200, body: this.get(p!).toxics() }),
          POST: ([p], b) => this.createToxic(p!, b),
        },
      },
      {
        pattern: /^\/proxies\/([^/]+)\/toxics\/([^/]+)$/,
        methods: {
          GET: ([p, t]) => ({ status: 200, body: this.getToxic(p!, t!) }),
          POST: ([p, t], b) => this.updateToxic(p!, t!, b),
          PATCH: ([p, t], b) => this.updateToxic(p!, t!, b),
          DELETE: ([p, t]) => this.removeToxic(p!, t!),
        },
      },
      {
        pattern: /^\/version$/,
        methods: {
          GET: () => ({
            status: 200,
            raw: `{"version": "${EMULATED_VERSION}"}\n`,
            type: 'application/json;charset=utf-8',
          }),
        },
      },
    ];
    const metrics = ctx.metrics;
    if (metrics) {
      this.routes.push({
        pattern: /^\/metrics$/,
        methods: {},
        any: () => ({ status: 200, raw: metrics.render(), type: 'text/plain; version=0.0.4; charset=utf-8' }),
      });
    }
  }

  /** Node http request listener. */
  handle = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', () => res.destroy());
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      this.dispatch(req, body)
        .then(
          (reply) => send(res, reply),
          (e) => {
            this.ctx.log(`toxiproxy api: ${req.method} ${req.url} failed: ${(e as Error).stack ?? e}`);
            send(res, errorReply(new ApiError((e as Error).message, 500)));
          },
        )
        .catch(() => res.destroy());
    });
  };

  private async dispatch(req: IncomingMessage, body: string): Promise<Reply> {
    let path: string;
    try {
      path = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    } catch {
      path = (req.url ?? '/').split('?')[0]!;
    }
    for (const route of this.routes) {
      const m = route.pattern.exec(path);
      if (!m) continue;
      const handler = route.any ?? route.methods[req.method ?? ''];
      if (!handler) return { status: 405, raw: '' };
      // Middleware of matched routes only (gorilla/mux): browser guard.
      if ((req.headers['user-agent'] ?? '').startsWith('Mozilla/')) {
        return { status: 403, raw: 'User agent not allowed\n', type: 'text/plain; charset=utf-8' };
      }
      const run = async () => {
        try {
          return await handler(m.slice(1), body);
        } catch (e) {
          if (e instanceof ApiError) return errorReply(e);
          throw e;
        } finally {
          // A request that was in flight during shutdown must not leave a listener behind.
          if (this.closed) this.stopAll();
        }
      };
      const result = this.queue.then(run, run);
      this.queue = result.catch(() => {});
      return result;
    }
    return { status: 404, raw: '404 page not found\n', type: 'text/plain; charset=utf-8' };
  }

  private get(name: string): ProxyEntry {
    const proxy = this.proxies.get(name);
    if (!proxy) throw Errors.proxyNotFound();
    return proxy;
  }

  private index(): Reply {
    const out: Record<string, ProxyEntry> = {};
    // Go marshals maps with sorted keys.
    for (const name of [...this.proxies.keys()].sort()) out[name] = this.proxies.get(name)!;
    return { status: 200, body: out };
  }

  private async create(body: string): Promise<Reply> {
    const input = decode(body, (v) => decodeStruct(v, PROXY_FIELDS, 'toxiproxy.Proxy') as ProxyInput);
    if (!input.name) throw new ApiError('missing required field: name', 400);
    if (!input.upstream) throw new ApiError('missing required field: upstream', 400);
    if (this.proxies.has(input.name)) throw Errors.proxyExists();
    const proxy = new ProxyEntry(this.ctx, input.name, input.listen ?? '', input.upstream);
    if (input.enabled ?? true) await proxy.start();
    this.proxies.set(proxy.name, proxy);
    return { status: 201, body: proxy };
  }

  private async update(name: string, body: string): Promise<Reply> {
    const proxy = this.get(name);
    const input = decode(body, (v) => decodeStruct(v, PROXY_FIELDS, 'toxiproxy.Proxy') as ProxyInput);
    const listen = input.listen ?? proxy.listen;
    const upstream = input.upstream ?? proxy.upstream;
    const enabled = input.enabled ?? proxy.enabled;
    if (await proxy.differs(listen, upstream)) {
      proxy.stop();
      proxy.listen = listen;
      proxy.upstream = upstream;
    }
    if (enabled !== proxy.enabled) {
      if (enabled) await proxy.start();
      else proxy.stop();
    }
    return { status: 200, body: proxy };
  }

  private remove(name: string): Reply {
    const proxy = this.get(name);
    proxy.stop();
    this.proxies.delete(name);
    return { status: 204 };
  }

  private async reset(): Promise<Reply> {
    for (const proxy of this.proxies.values()) {
      await proxy.start();
      proxy.resetToxics();
    }
    return { status: 204 };
  }

  private async populate(body: string): Promise<Reply> {
    const created: ProxyEntry[] = [];
    const reply = (status: number, error?: ApiError): Reply => {
      const proxies = created.length > 0 ? created : null;
      const payload = error ? { error: error.message, status: error.status, proxies } : { proxies };
      return { status, body: payload };
    };
    let inputs: ProxyInput[];
    try {
      inputs = decode(body, (v) => {
        if (v === null) return [];
        if (!Array.isArray(v)) {
          throw new JsonDecodeError(
            `json: cannot unmarshal ${jsonKind(v)} into Go value of type []struct { toxiproxy.Proxy; Enabled *bool "json:\\"enabled\\"" }`,
          );
        }
        return v.map((item) => decodeStruct(item, PROXY_FIELDS, 'toxiproxy.Proxy') as ProxyInput);
      });
      inputs.forEach((input, i) => {
        if (!input.name) throw new ApiError(`missing required field: name at proxy ${i + 1}`, 400);
        if (!input.upstream) throw new ApiError(`missing required field: upstream at proxy ${i + 1}`, 400);
      });
    } catch (e) {
      if (e instanceof ApiError) return reply(e.status, e);
      throw e;
    }
    for (const input of inputs) {
      try {
        const listen = input.listen ?? '';
        const existing = this.proxies.get(input.name!);
        if (existing) {
          if (!(await existing.differs(listen, input.upstream!))) {
            created.push(existing);
            continue;
          }
          existing.stop();
        }
        const proxy = new ProxyEntry(this.ctx, input.name!, listen, input.upstream!);
        if (input.enabled ?? true) await proxy.start();
        this.proxies.set(proxy.name, proxy);
        created.push(proxy);
      } catch (e) {
        if (e instanceof ApiError) return reply(e.status, e);
        throw e;
      }
    }
    return reply(201);
  }

  private createToxic(proxyName: string, body: string): Reply {
    const proxy = this.get(proxyName);
    const { input, attrs } = decode(body, (v) => ({
      input: decodeStruct(v, { ...TOXIC_FIELDS, attributes: 'object' }, 'toxics.ToxicWrapper') as {
        name?: string;
        type?: string;
        stream?: string;
        toxicity?: number;
        attributes?: GoObject;
      },
      attrs: v,
    }));
    const stream = input.stream ?? 'downstream';
    const lower = stream.toLowerCase();
    if (lower !== 'upstream' && lower !== 'downstream') throw Errors.invalidStream();
    const type = input.type ?? '';
    const name = input.name || `${type}_${stream}`;
    if (!isToxicType(type)) throw Errors.invalidToxicType();
    if (proxy.findToxic(name)) throw Errors.toxicExists();
    const attributes: Record<string, number> = {};
    for (const key of TOXIC_ATTRIBUTES[type]!) attributes[key] = 0;
    decode(body, () => Object.assign(attributes, decodeAttributes(type, attrs)));
    const toxic = new ToxicConfig(name, type, stream, lower, input.toxicity ?? 1, attributes);
    proxy.addToxic(toxic);
    return { status: 200, body: toxic };
  }

  private getToxic(proxyName: string, toxicName: string): ToxicConfig {
    const toxic = this.get(proxyName).findToxic(toxicName);
    if (!toxic) throw Errors.toxicNotFound();
    return toxic;
  }

  private updateToxic(proxyName: string, toxicName: string, body: string): Reply {
    const proxy = this.get(proxyName);
    const toxic = proxy.findToxic(toxicName);
    if (!toxic) throw Errors.toxicNotFound();
    const { toxicity, attributes } = decode(body, (v) => {
      const fields = decodeStruct(v, { toxicity: 'float32', attributes: 'object' }, 'struct') as { toxicity?: number };
      return { toxicity: fields.toxicity, attributes: decodeAttributes(toxic.type, v) };
    });
    Object.assign(toxic.attributes, attributes);
    if (toxicity !== undefined) toxic.toxicity = toxicity;
    proxy.updateToxic(toxic);
    return { status: 200, body: toxic };
  }

  private removeToxic(proxyName: string, toxicName: string): Reply {
    const proxy = this.get(proxyName);
    const toxic = proxy.findToxic(toxicName);
    if (!toxic) throw Errors.toxicNotFound();
    proxy.removeToxic(toxic);
    return { status: 204 };
  }

  private closed = false;

  /** Stops every proxy (server shutdown), also any a request still in flight creates. */
  stopAll(): void {
    for (const proxy of this.proxies.values()) proxy.stop();
  }

  async shutdown(): Promise<void> {
    this.closed = true;
    this.stopAll();
    await this.queue;
    this.stopAll();
  }

  /** Populate at start-up (the real `-config` file); throws on the first failure. */
  async populateFrom(list: unknown[]): Promise<void> {
    const reply = await this.populate(JSON.stringify(list));
    if (reply.status !== 201) throw new ApiError((reply.body as { error: string }).error, reply.status);
  }
}

/** The `attributes` object of a toxic body, decoded against the type's integer fields. */
function decodeAttributes(type: string, body: JsonValue): Record<string, number> {
  const outer = decodeStruct(body, { attributes: 'object' }, 'toxics.ToxicWrapper') as { attributes?: GoObject };
  if (!outer.attributes) return {};
  const fields: Record<string, 'int64'> = {};
  for (const key of TOXIC_ATTRIBUTES[type]!) fields[key] = 'int64';
  return decodeStruct(outer.attributes, fields, `toxics.${type}`) as Record<string, number>;
}

function errorReply(e: ApiError): Reply {
  // Go's http.Error: JSON text, a newline, labelled text/plain.
  return {
    status: e.status,
    raw: `${JSON.stringify({ error: e.message, status: e.status })}\n`,
    type: 'text/plain; charset=utf-8',
  };
}

function send(res: ServerResponse, reply: Reply): void {
  if (res.destroyed) return;
  res.setHeader('X-Toxiproxy-Request-Id', randomBytes(10).toString('hex'));
  let payload = reply.raw;
  let type = reply.type;
  if (payload === undefined && reply.body !== undefined) {
    payload = JSON.stringify(reply.body);
    type = 'application/json';
  }
  if (reply.status === 204 || payload === undefined) payload = '';
  if (type && payload !== '') res.setHeader('Content-Type', type);
  if (type?.startsWith('text/plain')) res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Content-Length', Buffer.byteLength(payload));
  res.writeHead(reply.status);
  res.end(payload);
}
