import { defineScenario } from '../harness/index';

/** Four phones of one user, a seeded random workload over every table; long. Same seed, same operations. */
export default defineScenario({
  name: 'multi-device-random',
  title: 'Four devices, random workload',
  tags: ['core', 'random'],
  devices: {
    p1: { kind: 'phone' },
    p2: { kind: 'phone' },
    p3: { kind: 'phone' },
    p4: { kind: 'phone', schemaVersion: 1 },
  },
  // Four devices hammering a shared pool of records conflict far more than the RFC's reference
  // workload (< 1 %): report the rate, don't fail on it.
  thresholds: { conflict_rate: ['rate<1'] },
  random: { opsPerDevice: 150, syncProbability: 0.25, thinkMs: [0, 20] },
});
