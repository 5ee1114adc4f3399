/**
 * The reference server as N processes behind one round-robin front, sharing one PostgreSQL (issue 16).
 * The server keeps no state that breaks with N > 1: the per-user stamp lock is a PostgreSQL row lock,
 * pokes travel over LISTEN/NOTIFY, device bindings and plan caches are write-once. So N instances are
 * N child processes of `server/main.ts`; the serverCrash fault can SIGKILL one of them (`instance`)
 * while the others keep serving, or all of them.
 */
import { startFront } from '../services/cluster/front';
import { type RunningServer, startChildServer } from './server-process';

export interface ClusterOptions {
  databaseUrl: string;
  instances: number;
  broken?: string[];
  /** Interface and port of the front (default 127.0.0.1, a free port). */
  host?: string;
  port?: number;
}

export interface RunningCluster extends RunningServer {
  instances: RunningServer[];
  crash(instance?: number): Promise<void>;
  restart(instance?: number): Promise<void>;
  /** Requests answered per instance, retries after refused connections, requests the front failed. */
  frontStats(): { perUpstream: number[]; retried: number; failed: number };
}

export async function startCluster(opts: ClusterOptions): Promise<RunningCluster> {
  if (!Number.isInteger(opts.instances) || opts.instances < 1)
    throw Object.assign(new Error(`instances must be a whole number ≥ 1 (got ${opts.instances})`), {
      code: 'HRN_ERR_USAGE',
    });
  // Started one after the other: N processes migrating one empty database at once would race.
  const instances: RunningServer[] = [];
  try {
    for (let i = 0; i < opts.instances; i++)
      instances.push(await startChildServer({ databaseUrl: opts.databaseUrl, broken: opts.broken }));
  } catch (e) {
    await Promise.all(instances.map((s) => s.close()));
    throw e;
  }
  const front = await startFront({
    host: opts.host,
    port: opts.port,
    upstreams: instances.map((s) => {
      const u = new URL(s.url);
      return { host: u.hostname, port: Number(u.port) };
    }),
  });
  const pick = (instance: number | undefined): RunningServer[] => {
    if (instance === undefined) return instances;
    const s = instances[instance];
    if (!s)
      throw new Error(
        `serverCrash names instance ${instance}, but the server runs ${instances.length} (0..${instances.length - 1})`,
      );
    return [s];
  };
  return {
    url: front.url,
    hostPort: new URL(front.url).host,
    instances,
    crash: async (instance) => {
      await Promise.all(pick(instance).map((s) => s.crash!()));
    },
    restart: async (instance) => {
      for (const s of pick(instance)) await s.restart!();
    },
    pause: async (instance) => {
      await Promise.all(pick(instance).map((s) => s.pause!()));
    },
    resume: async (instance) => {
      await Promise.all(pick(instance).map((s) => s.resume!()));
    },
    frontStats: () => front.stats(),
    close: async () => {
      await front.close();
      await Promise.all(instances.map((s) => s.close()));
    },
  };
}
