import { defineScenario } from '../harness/index';
import { stalePushRace } from './_stale-push';

/** The server detects a stale push (lastPulledAt older than the row) and resolves it by strategy. */
export default defineScenario({
  name: 'stale-push-race',
  title: 'A stale push racing a newer one is resolved by the table strategy',
  tags: ['core', 'conflicts'],
  devices: { phoneA: { kind: 'phone' }, phoneB: { kind: 'phone' } },
  // Phone B runs under a 1.5 s latency fault by design: the fault:active bound is a fault-tolerance
  // ceiling on its syncs, not the RFC latency (phone A's syncs outside the fault keep the RFC's 2 s).
  thresholds: {
    conflict_rate: ['rate<1'],
    'sync_latency_ms{path:phone-cloud,payload:small,fault:active}': ['p(95)<15000'],
  },
  async workload(ctx) {
    await stalePushRace(ctx);
    await ctx.devices.phoneA.sync();
    const s = await ctx.devices.phoneA.snapshot();
    ctx.expect(
      s.training_plans.find((r) => r.id === 'tp-race')?.weeks === 12,
      'training_plans (server wins): the newer server value survives the stale push',
    );
    ctx.expect(
      s.goals.find((r) => r.id === 'goal-race')?.status === 'a-newer',
      'goals (LWW): the larger updated_at survives the stale push',
    );
  },
});
