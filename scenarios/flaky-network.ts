import { defineScenario } from '../harness/index';

/** reset_peer with toxicity 0.3 on every phone for ten simulated minutes (30 s of wall time at time scale 20). */
export default defineScenario({
  name: 'flaky-network',
  title: 'Connections reset 30 % of the time',
  tags: ['faults', 'flaky'],
  timeScale: 20, // RFC backoff (1–30 s) and fault durations run 20× faster; latencies stay real
  devices: { p1: { kind: 'phone' }, p2: { kind: 'phone' }, p3: { kind: 'phone' } },
  faults: [
    { at: 0, duration: 600_000, fault: { kind: 'flaky', device: 'p1', resetProbability: 0.3 } },
    { at: 0, duration: 600_000, fault: { kind: 'flaky', device: 'p2', resetProbability: 0.3 } },
    { at: 0, duration: 600_000, fault: { kind: 'flaky', device: 'p3', resetProbability: 0.3 } },
  ],
  // The faults run on the run's clock: --time-scale shortens them.
  async workload(ctx) {
    const until = ctx.clock.now() + 600_000;
    while (ctx.clock.now() < until) await ctx.random({ opsPerDevice: 20, syncProbability: 0.4, thinkMs: [50, 400] });
  },
  // The RFC's 99 % success holds on the syncs no fault overlapped (fault:none, the RFC default); the
  // fault:active bound is a fault-tolerance floor for the syncs run under the faults, not the RFC target.
  thresholds: { 'sync_success_rate{fault:active}': ['rate>0.3'], conflict_rate: ['rate<1'] },
});
