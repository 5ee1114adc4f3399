/**
 * The embedded, in-process Toxiproxy-compatible server (spec: docs/toxiproxy-compat.md).
 * Driven through toxiproxy-node-client exactly like a real Toxiproxy 2.12.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ToxiproxyApi } from './api';
import { createRng } from './clock';
import { ProxyMetrics } from './proxy';

export { EMULATED_VERSION } from './api';

export interface EmbeddedToxiproxyOptions {
  /** Interface for the HTTP API; default 127.0.0.1. */
  host?: string;
  /** API port; 0 (default) picks a free one. */
  port?: number;
  /** Seed for jitter, toxicity and slicer draws (the harness is seeded); default random. */
  seed?: number;
  /** Proxies to create at start-up, with populate semantics (the real `-config` file). */
  proxies?: Array<{ name: string; listen?: string; upstream: string; enabled?: boolean }>;
  /** Serve GET /metrics with the per-proxy byte counters (the real `-proxy-metrics` flag); default off (404). */
  metrics?: boolean;
  /** Diagnostics (listener errors, unexpected failures); default silent. */
  log?: (line: string) => void;
}

export interface EmbeddedToxiproxy {
  /** Base URL without a trailing slash, e.g. http://127.0.0.1:8474. */
  url: string;
  port: number;
  /** Closes the API, every proxy listener and every proxied connection. */
  close(): Promise<void>;
}

/** FNV-1a of the proxy name mixed into the seed. */
function seedFor(seed: number, name: string): number {
  let h = (seed ^ 0x811c9dc5) >>> 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

export async function startEmbeddedToxiproxy(opts: EmbeddedToxiproxyOptions = {}): Promise<EmbeddedToxiproxy> {
  const host = opts.host === undefined || opts.host === 'localhost' ? '127.0.0.1' : opts.host;
  const api = new ToxiproxyApi({
    rng: createRng(opts.seed),
    ...(opts.seed === undefined ? {} : { rngFor: (name: string) => createRng(seedFor(opts.seed as number, name)) }),
    log: opts.log ?? (() => {}),
    metrics: opts.metrics ? new ProxyMetrics() : undefined,
  });
  if (opts.proxies?.length) {
    // Like populate: a failure stops processing; here it also undoes what was created.
    await api.populateFrom(opts.proxies).catch((e) => {
      api.stopAll();
      throw e;
    });
  }

  const server = createServer({ keepAliveTimeout: 5_000 }, api.handle);
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => {
      api.stopAll();
      reject(e);
    });
    server.listen({ host, port: opts.port ?? 0 }, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // fetch keeps API connections alive; drop them so close() does not wait for their timeout.
        server.closeAllConnections();
      }).then(() => api.shutdown());
      return closing;
    },
  };
}
