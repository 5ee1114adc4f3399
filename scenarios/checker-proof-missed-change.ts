import { defineScenario } from '../harness/index';

/**
 * Checker self-test: a server that takes the change stamp outside the per-user lock ("read now,
 * stamp later"), so concurrent pulls can miss writes committed with an older stamp. Devices that
 * never receive a write fail convergence or lost-writes.
 */
export default defineScenario({
  name: 'checker-proof-missed-change',
  title: 'Checker proof: pull misses writes stamped before commit',
  tags: ['checker-proof'],
  server: { broken: ['stamp-before-commit'] },
  expect: 'fail',
  devices: { p1: { kind: 'phone' }, p2: { kind: 'phone' }, p3: { kind: 'phone' } },
  random: { opsPerDevice: 120, syncProbability: 0.5, thinkMs: [0, 5] },
});
