import { defineScenario } from '../harness/index';

/**
 * Checker self-test: a server that commits each table of a push in its own transaction and fails
 * midway. The device is told the push failed, yet part of it is on the server. atomic-push must
 * name the half-applied rows (only it runs: convergence would also fail on the pending changes, and
 * so would it against a server that answers every push with 500 and applies nothing, which is
 * correct all-or-nothing behaviour).
 */
export default defineScenario({
  name: 'checker-proof-half-applied',
  title: 'Checker proof: half-applied push',
  tags: ['checker-proof'],
  timeScale: 20, // RFC backoff (1–30 s) and fault durations run 20× faster; latencies stay real
  server: { broken: ['split-push-transactions'] },
  expect: 'fail',
  checks: ['atomic-push'],
  devices: { phoneA: { kind: 'phone' }, phoneB: { kind: 'phone' } },
  async workload({ devices: { phoneA, phoneB } }) {
    await phoneA.create('activities', { sport: 'run', notes: 'one' }, 'ha-1');
    await phoneA.create('goals', { title: 'two', status: 'active' }, 'ha-2');
    await phoneA.create('users', { name: 'three' }, 'ha-3');
    await phoneA.sync();
    await phoneB.sync();
  },
});
