import { defineScenario } from '../harness/index';

/**
 * SIGSTOP the server while phones push, then freeze a phone mid-sync: requests stall, nothing is
 * restarted, and after SIGCONT / thaw every acknowledged write is there and devices converge.
 */
export default defineScenario({
  name: 'pause-server-and-phone',
  title: 'Paused server process and paused phone',
  tags: ['faults', 'process'],
  timeScale: 20,
  server: { process: 'child' },
  devices: { p1: { kind: 'phone' }, p2: { kind: 'phone' } },
  // The RFC's 99 % success holds on the syncs no fault overlapped (fault:none, the RFC default); the
  // fault:active bound is a fault-tolerance floor for the syncs run under the faults, not the RFC target.
  thresholds: { 'sync_success_rate{fault:active}': ['rate>0.5'], conflict_rate: ['rate<1'] },
  async workload({ devices: { p1, p2 }, nemesis, expect, note }) {
    for (let i = 0; i < 30; i++) await p1.create('goals', { title: `p1 ${i}`, status: 'active' });
    const pushes = Promise.all([p1.sync('manual'), p2.sync('manual')]);
    await nemesis.inject({ kind: 'pause' }, 20_000);
    const [a, b] = await pushes;
    const stalledMs = Math.round(Math.max(a.durationMs, b.durationMs));
    expect(a.ok && b.ok, 'syncs stalled by a paused server complete once it continues');
    for (let i = 0; i < 30; i++) await p2.create('goals', { title: `p2 ${i}`, status: 'active' });
    const p2push = p2.sync('manual');
    await nemesis.inject({ kind: 'pause', device: 'p2' }, 20_000);
    const thawed = await p2push;
    expect(thawed.ok, 'a phone frozen mid-sync finishes its sync after thawing');
    note(
      `proved: a SIGSTOPped server (1 s wall at ×20) stalled two phones' syncs for up to ${stalledMs} ms without a restart and both completed on SIGCONT; a phone frozen mid-sync finished that sync (${thawed.pushed} pushed) after thawing; the checkers below show every acknowledged write kept and convergence`,
    );
  },
});
