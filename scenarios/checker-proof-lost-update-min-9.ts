import { defineScenario } from '../harness/index';

/**
 * Minimal reproduction written by `harness shrink` from a run of (scenario checker-proof-lost-update, seed 9).
 * Fails the checks: lost-writes.
 * Shrunk from 15 steps on 2 devices to 9 steps on 2 devices in 30 runs.
 *
 * Its race is timed: phone A's push must reach the server between phone B's pull and push, which
 * B's slow link holds apart. The shrunk schedule left A about 2.5 s for that; on a loaded machine
 * (the suite beside two CPU burners, load average 10) A's sync took longer, the race did not happen,
 * and the broken server went uncaught. The link's latency and A's edit are 1.5 times as far apart now (not twice: at 3 s each way the idle kept-alive socket of B outlives the server's 5 s keep-alive and its push fails instead).
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
        ms: 2250,
      },
      duration: 9186,
    },
    {
      at: 4097,
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
      at: 4097,
      device: 'phoneA',
      op: 'sync',
      trigger: 'manual',
    },
    {
      at: 10272,
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
    // B's sync crosses the 2.25 s-each-way link four times (pull, push).
    'sync_latency_ms{path:phone-cloud,payload:small,fault:active}': ['p(95)<30000'],
  },
  expect: 'fail',
});
