import { defineScenario } from '../harness/index';

/**
 * kill -9 the server while pushes are in flight, restart it. Acknowledged writes survive; writes
 * whose push outcome was unknown are retried (same pushId) and applied exactly once.
 */
export default defineScenario({
  name: 'server-crash-mid-push',
  title: 'Server SIGKILL mid-push',
  tags: ['faults', 'process'],
  timeScale: 20, // RFC backoff (1–30 s) and fault durations run 20× faster; latencies stay real
  server: { process: 'child' },
  devices: { p1: { kind: 'phone' }, p2: { kind: 'phone' } },
  // The RFC's 2 s p95 holds on the syncs no crash overlapped (fault:none, the RFC default). A sync that
  // spans the crash waits out the restart and the RFC backoff, so its latency measures the outage: the
  // fault:active bound is a fault-tolerance ceiling (it catches a sync stuck far beyond the restart),
  // not the RFC latency.
  // The RFC's 99 % success holds on the syncs no fault overlapped (fault:none, the RFC default). The
  // syncs under the faults fail by design, and there are a handful of them: a floor on their rate
  // (was rate>0.3) measured how many happened to miss the outage, and failed the suite on a loaded
  // machine (at load average 10). What survives a fault is the checkers' job: nothing lost,
  // convergence, and every device syncing after the heal.
  thresholds: {
    conflict_rate: ['rate<1'],
    'sync_latency_ms{path:phone-cloud,payload:small,fault:active}': ['p(95)<10000'],
  },
  async workload({ devices: { p1, p2 }, nemesis, rng, sleep }) {
    await p1.sync('app_launch');
    await p2.sync('app_launch');
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 200; i++)
        await p1.create('activities', { sport: 'ride', notes: `crash round ${round} #${i} ${'z'.repeat(300)}` });
      for (let i = 0; i < 50; i++) await p2.create('goals', { title: `goal ${round}-${i}`, status: 'active' });
      const pushes = Promise.all([p1.sync('workout_complete'), p2.sync('manual')]);
      await sleep(rng.int(5, 60));
      await nemesis.inject({ kind: 'serverCrash' }, rng.int(200, 1000));
      await pushes;
    }
  },
});
