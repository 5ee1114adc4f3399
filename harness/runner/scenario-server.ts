/**
 * The sync server one scenario runs against: the given --target, or a fresh database and the
 * reference server (in process, as a child process when a fault needs to kill it, or N instances
 * behind a front). Also reads the server's sync_log for the checkers when the harness owns the DB.
 */
import type { ServerLogRow } from '../checkers/types';
import { DeviceNetwork } from '../faults/network';
import type { ProcessControl } from '../faults/plugin';
import { faultNeeds } from '../faults/registry';
import { serverObjectStoreConfig } from '../services/object-store/index';
import { type Gateway, startGateway } from '../target/gateway';
import { loadAdapter } from '../target/load';
import type { RunEnvironment, ScenarioRunOptions } from './run-scenario';
import type { ScenarioDefinition } from './scenario';
import { type RunningCluster, startCluster } from './server-cluster';
import { type RunningServer, startChildServer, startInProcessServer } from './server-process';

export interface ScenarioServer {
  server: RunningServer;
  url: string;
  /** serverCrash's handle (absent when the server is not ours to kill). */
  control?: ProcessControl;
  /** deviceId → that device's proxy in front of the object store (presigned URLs point there). */
  uploadRoutes: Map<string, string>;
  /** The per-scenario database (absent with --target); the harness's own reads use it directly. */
  databaseUrl?: string;
  /** The id a scenario's user has on the server (namespaced per run on a target). */
  serverUser(user: string): string;
  /** The id a scenario's device (or probe client) presents to the server: scenario, name, seed, and the run's namespace. */
  serverDeviceId(name: string): string;
  /** The adapter gateway in front of a target (absent for the reference server). */
  gateway?: Gateway;
  /** The proxy the server reaches PostgreSQL through (databasePartition), when a fault needs it. */
  dbProxy?: DeviceNetwork;
  /** Where the reference server's operator routes answer, one URL per instance (absent with --target). */
  adminUrls?: () => string[];
  /** Notes for the result (instances, the front's counters at close). */
  notes: string[];
  close(): Promise<void>;
}

export async function startScenarioServer(
  env: RunEnvironment,
  def: ScenarioDefinition,
  opts: ScenarioRunOptions,
  slug: string,
): Promise<ScenarioServer> {
  const broken = [...(opts.brokenServer ?? []), ...(def.server?.broken ?? [])];
  const instances = opts.serverInstances ?? def.server?.instances ?? 1;
  const recordedFaults = (def.steps ?? []).flatMap((st) => (st.op === 'fault' ? [st.fault] : []));
  const needs = faultNeeds(def.faults, recordedFaults);
  const needsChild = def.server?.process === 'child' || needs.has('childServer');
  const uploadRoutes = new Map<string, string>();
  const notes: string[] = [];
  let server: RunningServer;
  let databaseUrl: string | undefined;
  let gateway: Gateway | undefined;
  let dbProxy: DeviceNetwork | undefined;
  if (env.target) {
    if (broken.length)
      throw Object.assign(new Error('broken server modes need the harness to start the server (not with --target)'), {
        code: 'HRN_ERR_USAGE',
      });
    // Every request to a target goes through the gateway: it checks the harness's own requests
    // against the contract and translates them through the adapter (harness/target/gateway.ts).
    const gw = await startGateway({ targetUrl: env.target, adapter: env.adapter ?? (await loadAdapter(undefined)) });
    gateway = gw;
    server = { url: gw.url, hostPort: new URL(gw.url).host, close: () => gw.close() };
    notes.push(`target ${env.target} through adapter "${env.adapter?.name ?? 'contract'}"`);
  } else {
    const dbName = `h_${slug.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${opts.seed}_${Date.now().toString(36)}`.slice(
      0,
      60,
    );
    databaseUrl = await env.postgres!.createDatabase(dbName);
    let serverDbUrl = env.postgres!.serverUrl?.(databaseUrl) ?? databaseUrl;
    if (needs.has('dbProxy')) {
      ({ dbProxy, serverDbUrl } = await databaseLink(env, databaseUrl));
      notes.push(
        `server → PostgreSQL through a proxy (${dbProxy.url.replace(/^http:\/\//, '')}) for databasePartition`,
      );
    }
    const os = env.objectStore;
    server =
      instances > 1
        ? await startCluster({ databaseUrl: serverDbUrl, broken, instances })
        : needsChild
          ? await startChildServer({
              databaseUrl: serverDbUrl,
              broken,
              // Into the scenario's notes too: a server that died by itself explains a failed run.
              log: (l) => {
                notes.push(l.split('\n')[0]);
                env.log(l);
              },
            })
          : await startInProcessServer({
              databaseUrl: serverDbUrl,
              broken,
              objectStore: os && {
                ...serverObjectStoreConfig(os),
                publicEndpointFor: (deviceId) => uploadRoutes.get(deviceId),
              },
            });
    if (instances > 1) notes.push(`server: ${instances} instances behind a round-robin front`);
  }
  return {
    server,
    url: server.url,
    control: serverControl(server, instances),
    uploadRoutes,
    databaseUrl,
    dbProxy,
    ...(env.target
      ? {}
      : {
          adminUrls: () =>
            'instances' in server ? (server as RunningCluster).instances.map((i) => i.url) : [server.url],
        }),
    notes,
    gateway,
    serverUser: (u) => (env.namespace ? `${u}-${env.namespace}` : u),
    serverDeviceId: (name) => `${slug}-${name}-${opts.seed}${env.namespace ? `-${env.namespace}` : ''}`,
    async close() {
      if (gateway) {
        const c = Object.entries(gateway.statusCounts()).map(([k, n]) => `${k}: ${n}`);
        if (c.length) notes.push(`target answers: ${c.join(', ')}`);
      }
      if ('frontStats' in server) {
        const f = (server as RunningCluster).frontStats();
        notes.push(
          `front: requests per instance ${f.perUpstream.join(' / ')}, ${f.retried} re-sent after a refused connection, ${f.failed} answered 502/503 by the front`,
        );
      }
      await server.close().catch(() => {});
      await dbProxy?.remove();
    },
  };
}

/** A proxy in front of the scenario's PostgreSQL, and the database URL that goes through it. */
async function databaseLink(
  env: RunEnvironment,
  databaseUrl: string,
): Promise<{ dbProxy: DeviceNetwork; serverDbUrl: string }> {
  const u = new URL(databaseUrl);
  const tp = env.toxiproxy;
  const dbProxy = await DeviceNetwork.create(tp.client, 'server-postgres', Number(u.port || 5432), tp.addressing);
  const via = new URL(dbProxy.url);
  u.hostname = via.hostname;
  u.port = via.port;
  return { dbProxy, serverDbUrl: u.toString() };
}

/**
 * The server's sync_log rows of this scenario's devices, with the device ids the history uses
 * (`deviceIds` maps the id the device sent to its scenario id). Read after the server closed, so
 * background log writes have landed. Undefined when the database is not ours (--target).
 */
export async function readServerLog(
  databaseUrl: string | undefined,
  deviceIds: ReadonlyMap<string, string>,
): Promise<ServerLogRow[] | undefined> {
  if (!databaseUrl) return undefined;
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const r = await client.query<{
      device_id: string;
      operation: string;
      table_name: string | null;
      record_count: number | null;
      success: boolean;
    }>('SELECT device_id, operation, table_name, record_count, success FROM sync_log ORDER BY id');
    return r.rows.flatMap((row) => {
      const id = deviceIds.get(row.device_id);
      if (!id) return []; // load generators and other clients of the server are not checked here
      return [
        {
          deviceId: id,
          operation: row.operation,
          tableName: row.table_name,
          recordCount: row.record_count ?? 0,
          success: row.success,
        },
      ];
    });
  } finally {
    await client.end().catch(() => {});
  }
}

/** The serverCrash and pause faults' handle: `instance` only makes sense when the server runs several. */
function serverControl(server: RunningServer, instances: number): ProcessControl | undefined {
  const { crash, restart, pause, resume } = server;
  if (!crash || !restart) return undefined;
  const check = (instance?: number) => {
    if (instance !== undefined && (instance < 0 || instance >= instances))
      throw new Error(
        `serverCrash names instance ${instance}, but the server runs ${instances} instance${instances === 1 ? '' : 's'}; set server.instances or --server-instances`,
      );
  };
  return {
    crash: async (instance?: number) => {
      check(instance);
      await crash(instance);
    },
    restart: async (instance?: number) => {
      check(instance);
      await restart(instance);
    },
    ...(pause && resume
      ? {
          pause: async (instance?: number) => {
            check(instance);
            await pause(instance);
          },
          resume: async (instance?: number) => {
            check(instance);
            await resume(instance);
          },
        }
      : {}),
  };
}
