import type { ScenarioContext } from '../harness/index';

/**
 * A push that is stale by construction: phone B's traffic is slowed (1.5 s each way), so B pulls,
 * and while its push is still on the wire, phone A pushes a newer value of the same rows. B's push
 * then carries lastPulledAt older than A's write: the server must detect the conflict and apply the
 * table's strategy. Shared by the positive scenario and the checker proof against a broken server.
 */
export async function stalePushRace({ devices: { phoneA: a, phoneB: b }, nemesis, sleep }: ScenarioContext) {
  await a.create('training_plans', { name: 'Base', weeks: 8, status: 'active' }, 'tp-race');
  await a.create('goals', { title: 'Race', status: 'active', updated_at: 1_000 }, 'goal-race');
  await a.sync();
  await b.sync();
  await b.update('training_plans', 'tp-race', { weeks: 99 });
  await b.update('goals', 'goal-race', { status: 'b-older', updated_at: 2_000 });
  const slow = await nemesis.start({ kind: 'latency', device: 'phoneB', ms: 1500 });
  const bSync = b.sync('manual');
  await sleep(2000); // B's pull has reached the server (~1.5 s); its push has not (~3 s)
  await a.update('training_plans', 'tp-race', { weeks: 12 });
  await a.update('goals', 'goal-race', { status: 'a-newer', updated_at: 3_000 });
  await a.sync('manual');
  await bSync;
  await slow.stop();
}
