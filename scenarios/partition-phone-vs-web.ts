import { defineScenario } from '../harness/index';

/**
 * Hub and spoke: a partition between device groups means one group loses the hub. The web client
 * (browser offline and its proxy cut) edits while cut off; after healing all converge.
 */
export default defineScenario({
  name: 'partition-phone-vs-web',
  title: 'Partition: one device group loses the hub',
  tags: ['faults', 'partition'],
  timeScale: 20, // RFC backoff (1–30 s) and fault durations run 20× faster; latencies stay real
  devices: { phone: { kind: 'phone' }, web: { kind: 'web' } },
  // The cut-off web's syncs fail by design while partitioned (fault:active 0/15 on seed 1: the old
  // `rate>0.3` does not hold on them, so no floor there); the RFC's 99 % success holds on the others
  // (fault:none, the RFC default: 19/19, the phone's during the partition included).
  thresholds: { conflict_rate: ['rate<1'] },
  async workload({ devices: { phone, web }, nemesis, random }) {
    await phone.sync('app_launch');
    await web.sync('app_launch');
    const p = await nemesis.start({ kind: 'partition', groups: [['phone'], ['web']] });
    await random({ opsPerDevice: 40, syncProbability: 0.3, thinkMs: [0, 20] });
    await p.stop();
  },
});
