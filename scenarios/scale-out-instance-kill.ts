import { defineScenario } from '../harness/index';
import { runLoad } from '../harness/load/index';

/**
 * Issue 16: the reference server as two processes behind one round-robin front and one PostgreSQL.
 * Under virtual-user load, instance 1 is SIGKILLed and later restarted while three phones keep
 * editing and syncing through their proxies. The other instance carries the service; no write a
 * phone saw acknowledged may be lost (lost-writes) and every phone converges (convergence).
 */
export default defineScenario({
  name: 'scale-out-instance-kill',
  title: 'Two server instances, one killed mid-load',
  tags: ['faults', 'process', 'scale'],
  timeScale: 20,
  server: { instances: 2 },
  devices: { p1: { kind: 'phone' }, p2: { kind: 'phone' }, p3: { kind: 'phone', user: 'user-2' } },
  // Syncs in flight on the killed instance fail (502: outcome unknown) and are retried by the devices.
  thresholds: { sync_success_rate: ['rate>0.5'], conflict_rate: ['rate<1'] },
  async workload({ devices: { p1, p2, p3 }, nemesis, random, serverUrl, seed, metric, note }) {
    await Promise.all([p1.sync('app_launch'), p2.sync('app_launch'), p3.sync('app_launch')]);
    let loopStarted!: () => void;
    const underLoad = new Promise<void>((r) => {
      loopStarted = r;
    });
    // 20 users x 2 devices in a closed loop; no first syncs: a fresh device fetches its token
    // without retries, and this load is about syncs in flight across the kill.
    const load = runLoad({
      serverUrl,
      executor: { executor: 'constant-vus', vus: 40, durationMs: 6_000 },
      devicesPerUser: 2,
      mix: { 'first-sync': 0 },
      seed,
      maxAttempts: 3,
      onProgress: () => loopStarted(),
    });
    const work = random({ opsPerDevice: 40, syncProbability: 0.3, thinkMs: [20, 200] });
    // Kill once the virtual users are in their sync loop (their setup fetches tokens without retries).
    await Promise.race([underLoad, load]);
    // Simulated ms at time scale 20: the instance is down for 2 s of wall time.
    await nemesis.inject({ kind: 'serverCrash', instance: 1 }, 40_000);
    const [{ summary: r }] = await Promise.all([load, work]);
    metric('vu_sync_success_rate', r.successRate);
    note(
      `load during the kill: ${r.iterations} syncs, ${(r.successRate * 100).toFixed(1)} % ok, p95 ${Math.round(r.latency.p95)} ms`,
    );
  },
});
