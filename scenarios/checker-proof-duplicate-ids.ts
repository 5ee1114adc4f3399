import { defineScenario } from '../harness/index';

/**
 * Checker self-test: a server whose pull lists an id twice (the first updated row again, and every
 * deleted id also under `updated`), which breaks WatermelonDB clients. A device's first pull gets
 * rows the contract forbids; no-duplicates must fail naming the id.
 */
export default defineScenario({
  name: 'checker-proof-duplicate-ids',
  title: 'Checker proof: the same id twice in one pull',
  tags: ['checker-proof'],
  server: { broken: ['duplicate-ids-in-pull'] },
  expect: 'fail',
  // The harness reads the server's state through its pull, so the duplicate shows there.
  checks: ['no-duplicates'],
  devices: { phoneA: { kind: 'phone' }, phoneB: { kind: 'phone' } },
  async workload({ devices: { phoneA, phoneB } }) {
    await phoneA.create('goals', { kind: 'race', title: 'kept', status: 'active' }, 'goal-kept');
    await phoneA.create('goals', { kind: 'race', title: 'gone', status: 'active' }, 'goal-gone');
    await phoneA.sync('manual');
    await phoneA.delete('goals', 'goal-gone');
    await phoneA.sync('manual');
    await phoneB.sync('app_launch');
  },
});
