/** Prometheus metrics (RFC 5.3): one registry per app so several servers can live in one process. */
import client from 'prom-client';

export interface SyncMetrics {
  registry: client.Registry;
  duration: client.Histogram<'route' | 'method' | 'status'>;
  conflicts: client.Counter<'table' | 'resolution'>;
  bytes: client.Counter<'route' | 'direction'>;
  errors: client.Counter<'code'>;
  records: client.Counter<'route'>;
}

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
  };
}
