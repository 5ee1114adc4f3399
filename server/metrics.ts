/** Prometheus metrics (RFC 5.3): one registry per app so several servers can live in one process. */
import client from 'prom-client';

export interface SyncMetrics {
  registry: client.Registry;
  duration: client.Histogram<'route' | 'method' | 'status'>;
  conflicts: client.Counter<'table' | 'resolution'>;
  bytes: client.Counter<'route' | 'direction'>;
  errors: client.Counter<'code'>;
  records: client.Counter<'route'>;
  /** Time of each step of a sync (SYNC_PHASES): where a request's time goes, under real load. */
  phase: client.Histogram<'phase'>;
}

/**
 * The steps of a sync, timed by the server (bench/README.md reads them under load). lock_wait is
 * from asking for the user's row lock to holding it; lock_held from then to the commit's answer.
 */
export const SYNC_PHASES = [
  'auth',
  'pull_query',
  'pull_serialize',
  'push_validate',
  'push_begin',
  'lock_wait',
  'push_read',
  'push_resolve',
  'push_write',
  'push_commit',
  'lock_held',
] as const;
export type SyncPhase = (typeof SYNC_PHASES)[number];

export function createMetrics(): SyncMetrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  return {
    registry,
    duration: new client.Histogram({
      name: 'sync_request_duration_seconds',
      help: 'Duration of sync API requests by route',
      labelNames: ['route', 'method', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
      registers: [registry],
    }),
    conflicts: new client.Counter({
      name: 'sync_conflicts_total',
      help: 'Conflicts resolved on push, by table and resolution',
      labelNames: ['table', 'resolution'],
      registers: [registry],
    }),
    bytes: new client.Counter({
      name: 'sync_payload_bytes_total',
      help: 'Payload bytes in (request bodies) and out (responses, before compression) by route',
      labelNames: ['route', 'direction'],
      registers: [registry],
    }),
    errors: new client.Counter({
      name: 'sync_errors_total',
      help: 'Error responses by error code',
      labelNames: ['code'],
      registers: [registry],
    }),
    records: new client.Counter({
      name: 'sync_records_total',
      help: 'Records pulled or pushed',
      labelNames: ['route'],
      registers: [registry],
    }),
    phase: new client.Histogram({
      name: 'sync_phase_duration_seconds',
      help: 'Duration of each step of a pull or push (auth, queries, lock wait and hold, serialization)',
      labelNames: ['phase'],
      buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 2],
      registers: [registry],
    }),
  };
}
