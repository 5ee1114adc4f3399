import { defineScenario } from '../harness/index';

/**
 * Every server-side and phone-side fault kind drawn at random from the seed (network, crash, pause,
 * database partition, app kill, power loss) over ten simulated minutes of a random
 * three-phone workload, time-scaled to well under 90 s of wall time. End of run: the runner heals
 * everything, drives quiescence, and the checkers demand drained upload queues, convergence and no
 * server-lost write (writes a power loss took from a phone before it pushed them are counted apart).
 */
export default defineScenario({
  name: 'combined-faults',
  title: 'All fault kinds at random over a long run',
  tags: ['faults', 'random'],
  timeScale: 20,
  server: { process: 'child' },
  devices: { p1: { kind: 'phone' }, p2: { kind: 'phone' }, p3: { kind: 'phone' } },
  random: { opsPerDevice: 120, syncProbability: 0.3, thinkMs: [500, 4_000] },
  faults: {
    random: {
      kinds: [
        'offline',
        'latency',
        'flaky',
        'serverCrash',
        'pause',
        'databasePartition',
        'databaseRestart',
        'appKill',
        'lostLocalWrites',
      ],
      interval: [2_000, 10_000],
      duration: [2_000, 20_000],
      until: 540_000,
    },
  },
  // Syncs under the random faults wait out crashes, cuts and backoff: the fault:active bound is a
  // fault-tolerance ceiling, not the RFC latency. The RFC's 2 s p95 holds on the syncs no fault
  // overlapped (fault:none, the RFC default).
  // The RFC's 99 % success holds on the syncs no fault overlapped (fault:none, the RFC default). The
  // syncs under the faults fail by design, and there are a handful of them: a floor on their rate
  // (was rate>0.2) measured how many happened to miss the outage, and failed the suite on a loaded
  // machine (at load average 10). What survives a fault is the checkers' job: nothing lost,
  // convergence, and every device syncing after the heal.
  thresholds: {
    conflict_rate: ['rate<1'],
    'sync_latency_ms{path:phone-cloud,payload:small,fault:active}': ['p(95)<60000'],
  },
});
