import { defineScenario } from '../harness/index';
import { stalePushRace } from './_stale-push';

/**
 * Checker self-test: the stale-push race against a server that resolves conflicts but writes no
 * CONFLICT_RESOLVED row to sync_log. The devices see their conflicts; the sync_log rows reach the
 * checkers (analysis.ts serverLog), and conflict-rules must fail naming the missing rows.
 */
export default defineScenario({
  name: 'checker-proof-drop-conflicts-from-log',
  title: 'Checker proof: resolved conflicts missing from sync_log',
  tags: ['checker-proof'],
  server: { broken: ['drop-conflicts-from-log'] },
  expect: 'fail',
  checks: ['conflict-rules'],
  thresholds: {
    conflict_rate: ['rate<1'],
    'sync_latency_ms{path:phone-cloud,payload:small,fault:active}': ['p(95)<15000'],
  },
  devices: { phoneA: { kind: 'phone' }, phoneB: { kind: 'phone' } },
  workload: stalePushRace,
});
