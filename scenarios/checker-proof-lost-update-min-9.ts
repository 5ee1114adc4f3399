import { defineScenario } from '../harness/index';

/**
 * Minimal reproduction written by `harness shrink` from a run of (scenario checker-proof-lost-update, seed 9).
 * Fails the checks: lost-writes.
 * Shrunk from 15 steps on 2 devices to 9 steps on 2 devices in 30 runs.
 */
export default defineScenario({
  name: 'checker-proof-lost-update-min-9',
  tags: ['checker-proof', 'regression'],
  devices: {
    phoneA: {
      kind: 'phone',
    },
    phoneB: {
      kind: 'phone',
    },
  },
  steps: [
    {
      at: 19,
      device: 'phoneA',
      op: 'create',
      table: 'goals',
      id: 'goal-race',
      values: {
        title: 'Race',
        status: 'active',
        updated_at: 1000,
      },
    },
    {
      at: 23,
      device: 'phoneA',
      op: 'sync',
      trigger: 'manual',
    },
    {
      at: 370,
      device: 'phoneB',
      op: 'sync',
      trigger: 'manual',
    },
    {
      at: 677,
      device: 'phoneB',
      op: 'update',
      table: 'goals',
      id: 'goal-race',
      values: {
        status: 'b-older',
        updated_at: 2000,
      },
    },
    {
      at: 723,
      device: 'phoneB',
      op: 'sync',
      trigger: 'manual',
    },
    {
      at: 723,
      op: 'fault',
      fault: {
        kind: 'latency',
        device: 'phoneB',
        ms: 1500,
      },
      duration: 6124,
    },
    {
      at: 2731,
      device: 'phoneA',
      op: 'update',
      table: 'goals',
      id: 'goal-race',
      values: {
        status: 'a-newer',
        updated_at: 3000,
      },
    },
    {
      at: 2731,
      device: 'phoneA',
      op: 'sync',
      trigger: 'manual',
    },
    {
      at: 6848,
      device: 'phoneA',
      op: 'sync',
      trigger: 'manual',
    },
  ],
  server: {
    broken: ['skip-stale-check'],
  },
  checks: ['lost-writes', 'conflict-rules', 'convergence'],
  thresholds: {
    conflict_rate: ['rate<1'],
    'sync_latency_ms{path:phone-cloud,payload:small,fault:active}': ['p(95)<15000'],
  },
  expect: 'fail',
});
