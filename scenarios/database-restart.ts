import { defineScenario } from '../harness/index';

/**
 * PostgreSQL stops (fast or immediate) and starts again while devices sync; then the server process
 * is killed and restarted while the database is still down, as when a node reboots both. The server
 * must wait for its database instead of exiting (before, its migration failed with ECONNREFUSED, the
 * restart failed and every device saw "fetch failed"), and overlapping restarts are one outage.
 */
export default defineScenario({
  name: 'database-restart',
  title: 'Database restart under load',
  tags: ['faults', 'process'],
  timeScale: 20, // RFC backoff (1–30 s) and fault durations run 20× faster; latencies stay real
  server: { process: 'child' },
  devices: { p1: { kind: 'phone' }, p2: { kind: 'phone' } },
  // The RFC's 2 s p95 holds on the syncs no restart overlapped (fault:none, the RFC default). A sync that
  // spans the ten-second outage of the last phase measures the outage, not the sync (as in
  // server-crash-mid-push): the fault:active bound is a fault-tolerance ceiling that catches a stuck
  // sync, not the RFC latency.
  // The RFC's 99 % success holds on the syncs no fault overlapped (fault:none, the RFC default: 22/22,
  // 29/29, 30/30 on seeds 1-3), so recovery after each restart is judged at the RFC's rate. No success
  // floor on fault:active: under a database outage the server answers 503 by contract, and a device
  // without a token yet fails each sync at once on the token request, so the random workload's retries
  // set the count (fault:active 2/20, 2/18, 3/21 on seeds 1-3, 1/19 on a rerun of seed 1: timing, not
  // the seed; the old `rate>0.3` does not hold on these; over every sync it measured 0.57-0.66). The
  // workload asserts the sync after the outage succeeds.
  thresholds: {
    conflict_rate: ['rate<1'],
    'sync_latency_ms{path:phone-cloud,payload:small,fault:active}': ['p(95)<10000'],
  },
  async workload({ devices: { p1, p2 }, nemesis, random, expect, note }) {
    await p1.sync('app_launch');
    await Promise.all([
      random({ opsPerDevice: 60, syncProbability: 0.3, thinkMs: [10, 60] }),
      (async () => {
        await nemesis.inject({ kind: 'databaseRestart', mode: 'fast' }, 20_000);
        await nemesis.inject({ kind: 'databaseRestart', mode: 'immediate' }, 20_000);
      })(),
    ]);
    // The server restarts (a few seconds of wall time) inside a database outage of 10 s wall time;
    // a second restart fault overlaps the first.
    await Promise.all([
      nemesis.inject({ kind: 'databaseRestart', mode: 'immediate' }, 200_000),
      nemesis.inject({ kind: 'databaseRestart', mode: 'fast' }, 40_000),
      nemesis.inject({ kind: 'serverCrash' }, 5_000),
      p2.create('goals', { title: 'written during the outage', status: 'active' }),
    ]);
    const after = await p2.sync('manual');
    expect(after.ok, `a sync after the server restarted during the outage succeeds (${after.ok ? 'ok' : 'failed'})`);
    note(
      'proved: PostgreSQL stopped fast and immediate under load, then the server was killed and restarted inside a 10 s database outage (two overlapping restart faults); the server waited for its database, served the next sync, and the checkers show nothing lost and convergence',
    );
  },
});
