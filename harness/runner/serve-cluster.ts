/**
 * `harness serve --instances N`: PostgreSQL, N reference-server processes and the round-robin front,
 * until Ctrl-C. The front's URL is the one devices, load generators and `harness run --target` use.
 */

import { untilStopped } from '../../server/until-stopped';
import { type PostgresMode, resolvePostgres } from '../services/postgres/index';
import { startCluster } from './server-cluster';

export interface ClusterServeOptions {
  instances: number;
  services: PostgresMode;
  databaseUrl?: string;
  host?: string;
  port?: number;
  print?: (line: string) => void;
  /** Stops like Ctrl-C does (tests). */
  signal?: AbortSignal;
  /** Called once everything answers, with the cluster (tests use it to kill an instance). */
  onReady?(cluster: Awaited<ReturnType<typeof startCluster>>): void;
}

export async function runClusterServe(opts: ClusterServeOptions): Promise<void> {
  const print = opts.print ?? ((l: string) => process.stdout.write(`${l}\n`));
  const mode: PostgresMode = opts.services === 'auto' && opts.databaseUrl ? 'url' : opts.services;
  const pg = await resolvePostgres({ mode, url: opts.databaseUrl, log: (l) => process.stderr.write(`${l}\n`) });
  let cluster: Awaited<ReturnType<typeof startCluster>> | undefined;
  try {
    cluster = await startCluster({ databaseUrl: pg.url, instances: opts.instances, host: opts.host, port: opts.port });
  } catch (e) {
    await pg.stop().catch(() => {});
    throw e;
  }
  print(`listening on ${cluster.url}`);
  print(`  ${opts.instances} instances: ${cluster.instances.map((s) => s.url).join(', ')} (one PostgreSQL)`);
  print(
    `get a token: curl -s -X POST ${cluster.url}/auth/test-token -H 'content-type: application/json' ` +
      `-d '{"userId":"u1","deviceId":"d1","platform":"IOS"}'`,
  );
  opts.onReady?.(cluster);
  await untilStopped(opts.signal);
  const f = cluster.frontStats();
  process.stderr.write(
    `front: requests per instance ${f.perUpstream.join(' / ')}, ${f.retried} re-sent, ${f.failed} failed\n`,
  );
  await cluster.close();
  await pg.stop().catch(() => {});
}
