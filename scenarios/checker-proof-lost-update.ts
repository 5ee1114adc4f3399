import { defineScenario } from '../harness/index';
import { stalePushRace } from './_stale-push';

/**
 * Checker self-test: the same race against a server that skips the stale-write check. The stale
 * push overwrites A's acknowledged write; the lost-writes checker must fail and name it.
 * Expected verdict: the checks fail (so this scenario "passes" when the checker catches the bug).
 */
export default defineScenario({
  name: 'checker-proof-lost-update',
  title: 'Checker proof: lost update on a server without the stale check',
  tags: ['checker-proof'],
  server: { broken: ['skip-stale-check'] },
  expect: 'fail',
  checks: ['lost-writes', 'conflict-rules', 'convergence'],
  thresholds: {
    conflict_rate: ['rate<1'],
    'sync_latency_ms{path:phone-cloud,payload:small,fault:active}': ['p(95)<15000'],
  },
  devices: { phoneA: { kind: 'phone' }, phoneB: { kind: 'phone' } },
  workload: stalePushRace,
});
