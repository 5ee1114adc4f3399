import { defineScenario } from '../harness/index';

/**
 * A first sync of 500 activities on the "slow-3g" preset (400 kbit/s, 2 s RTT). The RFC's < 2 s
 * target cannot hold on this profile (one round trip alone costs 2 s): the thresholds here are
 * report-only bounds; what must hold is correctness.
 */
export default defineScenario({
  name: 'slow-3g-large-sync',
  title: 'Large sync on Slow 3G',
  tags: ['faults', 'network', 'performance'],
  devices: { seeder: { kind: 'phone' }, slow: { kind: 'phone', network: 'slow-3g' } },
  // A device's network profile is not a nemesis fault: its syncs are fault:none, so the RFC key itself is
  // restated here, a report-only bound for this profile (one 2 s round trip already misses the RFC's 2 s).
  thresholds: { 'sync_latency_ms{path:phone-cloud,payload:small,fault:none}': ['p(95)<120000'] },
  timeoutMs: 15 * 60_000,
  async workload({ devices: { seeder, slow }, expect, note }) {
    for (let i = 0; i < 500; i++)
      await seeder.create(
        'activities',
        { sport: 'run', distance_m: i, notes: `activity ${i} ${'n'.repeat(100)}` },
        `a${i}`,
      );
    await seeder.sync();
    const first = await slow.sync('app_launch');
    expect(
      first.ok && first.pulled >= 500,
      `the slow device pulls 500 activities (pulled ${first.pulled}, ${first.error ?? 'ok'})`,
    );
    note(
      `slow-3g first sync of 500 activities took ${Math.round(first.durationMs)} ms for ${first.bytesDown} bytes down (RFC target < 2 s is not achievable on this profile)`,
    );
  },
});
