import { Toxiproxy } from 'toxiproxy-node-client';
import { HarnessError } from '../../config/errors';
import { containerRuntimeAvailable } from '../container-runtime';
import { startEmbeddedToxiproxy } from './embedded/index';

export type ToxiproxyMode = 'embedded' | 'container' | 'url' | 'auto';

export interface ResolveToxiproxyOptions {
  /** For mode `url`: the Toxiproxy API base, e.g. http://127.0.0.1:8474. */
  url?: string;
  /** Gets the one line saying which proxy was picked and why; default stdout. */
  log?: (line: string) => void;
  /** Seed for the embedded proxy's random draws. */
  seed?: number;
  /** Container mode: ports of servers on this host the proxies will forward to (exposed before start). */
  exposeHostPorts?: number[];
}

export interface ResolvedToxiproxy {
  mode: 'embedded' | 'container' | 'url';
  /** API base without a trailing slash. */
  url: string;
  client: Toxiproxy;
  /** For `container`: the mapped host port of each container proxy port (8666–8697). */
  portMap?: Record<number, number>;
  /**
   * Addressing that differs per mode (compat spec section 7), so callers need not care:
   * a `listen` for a new proxy (`127.0.0.1:0`, or a free port of the container's range),
   */
  allocateListen(): Promise<string>;
  /** where a client on this host connects for a proxy reporting `listen`, */
  clientAddress(listen: string): { host: string; port: number };
  /** and how the proxy reaches a server of this process on `port` (container: exposed host port). */
  upstreamAddress(port: number): string;
  stop(): Promise<void>;
}

const portOf = (listen: string) => Number(listen.slice(listen.lastIndexOf(':') + 1));

function localAddressing(clientHost: string) {
  return {
    allocateListen: async () => `${clientHost === 'localhost' ? '127.0.0.1' : clientHost}:0`,
    clientAddress: (listen: string) => ({ host: clientHost, port: portOf(listen) }),
    upstreamAddress: (port: number) => `127.0.0.1:${port}`,
  };
}

/** Pinned like the compat spec says (section 7). */
export const TOXIPROXY_IMAGE = 'ghcr.io/shopify/toxiproxy:2.12.0';
/** Proxy ports the container exposes, as the official testcontainers module does. */
export const CONTAINER_PROXY_PORTS = Array.from({ length: 32 }, (_, i) => 8666 + i);

/** Checks that `url` answers GET /version like a Toxiproxy 2.x does. */
export async function checkToxiproxyUrl(url: string, timeoutMs = 3000): Promise<string> {
  const base = url.replace(/\/+$/, '');
  let text: string;
  try {
    const res = await fetch(`${base}/version`, { signal: AbortSignal.timeout(timeoutMs) });
    text = await res.text();
    if (!res.ok) throw new Error(`GET /version answered ${res.status}`);
  } catch (e) {
    throw new HarnessError(
      'HRN_ERR_SERVICE',
      `no Toxiproxy answers at ${base} (${e instanceof Error ? e.message : String(e)})`,
      'Start one (`harness proxy --port 8474`, or the ghcr.io/shopify/toxiproxy image), fix the URL, or use the embedded proxy.',
    );
  }
  let version: unknown;
  try {
    version = (JSON.parse(text) as { version?: unknown }).version;
  } catch {
    version = undefined;
  }
  if (typeof version !== 'string') {
    throw new HarnessError('HRN_ERR_SERVICE', `${base}/version did not return Toxiproxy's {"version": ...} JSON`);
  }
  return version;
}

async function startEmbedded(reason: string, seed?: number): Promise<ResolvedToxiproxy & { reason: string }> {
  const server = await startEmbeddedToxiproxy({ seed });
  return {
    mode: 'embedded',
    url: server.url,
    client: new Toxiproxy(server.url),
    ...localAddressing('127.0.0.1'),
    stop: () => server.close(),
    reason,
  };
}

async function startContainer(reason: string, hostPorts: number[]): Promise<ResolvedToxiproxy & { reason: string }> {
  const tc = await import('testcontainers');
  let container: Awaited<ReturnType<InstanceType<typeof tc.GenericContainer>['start']>>;
  try {
    // Servers of this process the container must reach; testcontainers needs them before the start.
    if (hostPorts.length > 0) await tc.TestContainers.exposeHostPorts(...hostPorts);
    container = await new tc.GenericContainer(TOXIPROXY_IMAGE)
      .withExposedPorts(8474, ...CONTAINER_PROXY_PORTS)
      .withWaitStrategy(tc.Wait.forHttp('/version', 8474).forStatusCode(200))
      .start();
  } catch (e) {
    throw new HarnessError(
      'HRN_ERR_SERVICE',
      `could not start the Toxiproxy container ${TOXIPROXY_IMAGE}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`,
    );
  }
  const url = `http://${container.getHost()}:${container.getMappedPort(8474)}`;
  const portMap: Record<number, number> = {};
  for (const p of CONTAINER_PROXY_PORTS) portMap[p] = container.getMappedPort(p);
  const client = new Toxiproxy(url);
  const host = container.getHost();
  let stopped = false;
  return {
    mode: 'container',
    url,
    client,
    portMap,
    reason,
    async allocateListen() {
      const used = new Set(Object.values(await client.getAll()).map((p) => portOf(p.listen)));
      const free = CONTAINER_PROXY_PORTS.find((p) => !used.has(p));
      if (free === undefined) {
        throw new HarnessError(
          'HRN_ERR_SERVICE',
          `all ${CONTAINER_PROXY_PORTS.length} proxy ports of the Toxiproxy container are in use`,
          'Use fewer proxies (one per device) or the embedded proxy.',
        );
      }
      return `0.0.0.0:${free}`;
    },
    clientAddress: (listen) => ({ host, port: portMap[portOf(listen)] ?? portOf(listen) }),
    upstreamAddress: (port) => `host.testcontainers.internal:${port}`,
    async stop() {
      if (stopped) return;
      stopped = true;
      await container.stop().catch(() => {});
    },
  };
}

export async function resolveToxiproxy(
  mode: ToxiproxyMode,
  opts: ResolveToxiproxyOptions = {},
): Promise<ResolvedToxiproxy> {
  const log = opts.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  let result: ResolvedToxiproxy & { reason: string };
  switch (mode) {
    case 'embedded':
      result = await startEmbedded('embedded was requested', opts.seed);
      break;
    case 'url': {
      if (!opts.url) {
        throw new HarnessError(
          'HRN_ERR_CONFIG',
          "services.proxy.mode is 'url' but no URL was given",
          'Set services.proxy.url (e.g. http://127.0.0.1:8474) or use mode embedded/auto.',
        );
      }
      const url = opts.url.replace(/\/+$/, '');
      const version = await checkToxiproxyUrl(url);
      result = {
        mode: 'url',
        url,
        client: new Toxiproxy(url),
        ...localAddressing(new URL(url).hostname.replace(/^\[|\]$/g, '')),
        stop: async () => {},
        reason: `Toxiproxy ${version} answers there`,
      };
      break;
    }
    case 'container': {
      const rt = await containerRuntimeAvailable();
      if (!rt.ok) {
        throw new HarnessError(
          'HRN_ERR_SERVICE',
          `services.proxy.mode = 'container' needs a container runtime (Docker/Podman), and none answers: ${rt.why}`,
          "Use 'embedded' (no Docker needed) or 'auto'.",
        );
      }
      result = await startContainer(`container was requested and ${rt.why}`, opts.exposeHostPorts ?? []);
      break;
    }
    case 'auto': {
      const rt = await containerRuntimeAvailable();
      result = rt.ok
        ? await startContainer(`auto: ${rt.why}`, opts.exposeHostPorts ?? [])
        : await startEmbedded(`auto: no container runtime (${rt.why})`, opts.seed);
      break;
    }
    default:
      throw new HarnessError(
        'HRN_ERR_CONFIG',
        `unknown proxy mode ${JSON.stringify(mode)}`,
        'Use embedded, container, url or auto.',
      );
  }
  log(`toxiproxy: ${result.mode} at ${result.url} (${result.reason})`);
  const { reason: _reason, ...resolved } = result;
  return resolved;
}

export { containerRuntimeAvailable } from '../container-runtime';
