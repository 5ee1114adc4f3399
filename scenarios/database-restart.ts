import { defineScenario } from '../harness/index';

/** PostgreSQL stops (fast or immediate) and starts again while devices sync. */
export default defineScenario({
  name: 'database-restart',
  title: 'Database restart under load',
  tags: ['faults', 'process'],
  timeScale: 20, // RFC backoff (1–30 s) and fault durations run 20× faster; latencies stay real
  devices: { p1: { kind: 'phone' }, p2: { kind: 'phone' } },
  thresholds: { sync_success_rate: ['rate>0.3'], conflict_rate: ['rate<1'] },
  async workload({ devices: { p1, p2 }, nemesis, random }) {
    await p1.sync('app_launch');
    await Promise.all([
      random({ opsPerDevice: 60, syncProbability: 0.3, thinkMs: [10, 60] }),
      (async () => {
        await nemesis.inject({ kind: 'databaseRestart', mode: 'fast' }, 20_000);
        await nemesis.inject({ kind: 'databaseRestart', mode: 'immediate' }, 20_000);
      })(),
    ]);
    await p2.sync('manual');
  },
});
