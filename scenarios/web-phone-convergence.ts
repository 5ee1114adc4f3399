import { defineScenario } from '../harness/index';

/** RFC phase 6: two phones and two web clients of one user, every table, converge. */
export default defineScenario({
  name: 'web-phone-convergence',
  title: '2 phones + 2 web devices, every table',
  tags: ['web'],
  devices: {
    phoneA: { kind: 'phone' },
    phoneB: { kind: 'phone' },
    webA: { kind: 'web' },
    webB: { kind: 'web', tabs: 2 },
  },
  thresholds: { conflict_rate: ['rate<1'] },
  random: { opsPerDevice: 40, syncProbability: 0.3, thinkMs: [0, 30] },
});
