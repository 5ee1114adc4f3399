import type { FaultSpec } from '../harness/index';
import { defineScenario } from '../harness/index';

/**
 * The fault kinds no other @faults scenario injects, each around a real sync of a phone: latency,
 * slowClose, timeout, bandwidth and a network preset; an app kill in the middle of a push; and, under all of
 * it, a random nemesis that disconnects and reconnects the phones. Every acknowledged write must
 * survive and the devices must converge.
 */
export default defineScenario({
  name: 'fault-vocabulary',
  title:
    'Latency, slowClose, timeout, bandwidth, network, an app kill mid-push, and a random disconnect/connect nemesis',
  tags: ['faults'],
  timeScale: 20,
  devices: { p1: { kind: 'phone' }, p2: { kind: 'phone' } },
  faults: { random: { kinds: ['offline'], interval: [800, 2000], duration: [200, 1000], devices: ['p2'] } },
  // Syncs under the faults fail by design. The RFC's 99 % success holds on the syncs no fault overlapped (fault:none, the
  // RFC default); the fault:active bound is a fault-tolerance floor for the syncs run under the faults,
  // not the RFC target.
  thresholds: { 'sync_success_rate{fault:active}': ['rate>0.3'] },
  async workload({ devices: { p1, p2 }, nemesis, random, sleep, expect }) {
    await p1.sync('app_launch');
    await p2.sync('app_launch');
    const around = async (fault: FaultSpec, label: string) => {
      await p1.create('goals', { title: `under ${label}`, status: 'active' });
      const f = await nemesis.start(fault);
      const s = p1.sync('manual');
      await sleep(1500);
      await f.stop();
      await s;
      const after = await p1.sync('manual');
      expect(after.ok, `p1 syncs once ${label} is healed (${after.error ?? ''})`);
    };
    const generated = random({ opsPerDevice: 20, syncProbability: 0.3, thinkMs: [0, 50], devices: ['p2'] });
    await around({ kind: 'latency', device: 'p1', ms: 300, jitterMs: 50 }, 'latency');
    await around({ kind: 'slowClose', device: 'p1', delayMs: 300 }, 'slowClose');
    await around({ kind: 'timeout', device: 'p1', ms: 200 }, 'timeout');
    await around({ kind: 'bandwidth', device: 'p1', KBps: 10 }, 'bandwidth');
    await around({ kind: 'network', device: 'p1', preset: '3g' }, 'network 3g');
    await nemesis.inject({ kind: 'network', device: 'p1', preset: 'wifi' });

    // App kill while the push is on the wire: the restarted app re-sends it (same pushId) or finds it applied.
    for (let i = 0; i < 300; i++)
      await p1.create('activities', { sport: 'run', notes: `kill ${i} ${'x'.repeat(200)}` });
    const phone = p1.driver('phone');
    const syncing = p1.sync('workout_complete');
    const end = performance.now() + 30_000;
    while (phone.syncPhase !== 'push' && performance.now() < end) await new Promise((r) => setTimeout(r, 5));
    expect(phone.syncPhase === 'push', 'the kill lands mid-push');
    await p1.kill();
    await syncing;
    await p1.restart();
    await generated;
    const done = await p1.sync('manual');
    expect(done.ok && (await p1.pending()) === 0, `after the restart everything is delivered (${done.error ?? ''})`);
  },
});
