import { runVirtualUsers } from '../devices/vu/index';
import { defineScenario } from '../harness/index';

/** The load this scenario drives; `harness export k6 load-1000-concurrent` turns it into k6 executors. */
const LOAD = { users: 250, devicesPerUser: 4, durationMs: 20_000, writesPerSync: 3 };

/**
 * RFC 5.2 "1000 concurrent sync operations": protocol-level virtual users (real payload shapes, no
 * local DB) against the server, while two phones keep syncing through their proxies and must still
 * converge. Reports how many syncs were in flight at once and their latency.
 */
export default defineScenario({
  name: 'load-1000-concurrent',
  title: '1000 concurrent syncs held, phones still converge',
  tags: ['load', 'performance'],
  devices: { phoneA: { kind: 'phone' }, phoneB: { kind: 'phone' } },
  load: LOAD,
  thresholds: {
    concurrent_syncs: ['max>=1000'],
    // RFC 5.2 asks that 1000 concurrent syncs be held, not for a latency under that load; on a 2-core
    // box that also runs PostgreSQL p95 is 14–26 s. Reported, bounded loosely.
    vu_sync_latency_ms: ['p(95)<60000'],
    conflict_rate: ['rate<1'],
    vu_sync_success_rate: ['min>0.99'],
    // Phones share one 2-core machine with 1000 virtual users here: their latency is reported, not judged.
    'sync_latency_ms{path:phone-cloud,payload:small}': ['p(95)<60000'],
  },
  timeoutMs: 10 * 60_000,
  async workload({ devices: { phoneA, phoneB }, serverUrl, seed, metric, note, random }) {
    const load = runVirtualUsers({
      serverUrl,
      ...LOAD,
      seed,
      targetConcurrency: 1000,
      requestTimeoutMs: 60_000,
    });
    await random({ opsPerDevice: 20, syncProbability: 0.3, thinkMs: [100, 500], devices: ['phoneA', 'phoneB'] });
    const r = await load;
    metric('concurrent_syncs', r.maxConcurrentSyncs);
    metric('vu_sync_success_rate', r.successRate);
    for (const [k, v] of Object.entries({
      p50: r.latencyMs.p50,
      p95: r.latencyMs.p95,
      p99: r.latencyMs.p99,
      max: r.latencyMs.max,
    }))
      note(`vu sync latency ${k}: ${Math.round(v)} ms`);
    metric('vu_sync_latency_ms', r.latencyMs.p95, { stat: 'p95' });
    note(
      `${r.vus} virtual users: ${r.syncs} syncs (${r.throughputSyncsPerSec.toFixed(0)}/s), max ${r.maxConcurrentSyncs} in flight, ${r.msAtOrAboveTarget} ms at ≥ 1000, success ${(r.successRate * 100).toFixed(2)} %`,
    );
    await phoneA.sync();
    await phoneB.sync();
  },
});
