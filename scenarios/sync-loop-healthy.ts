import { defineScenario } from '../harness/index';

/**
 * The workload of checker-proof-sync-loop against the correct server: each pull moves the reader's
 * stamp past what it received, so sync-loops stays quiet. Together they prove the checker flags a
 * looping device and not a healthy one.
 */
export default defineScenario({
  name: 'sync-loop-healthy',
  title: 'Sync-loop detection stays quiet on a healthy run',
  tags: ['operations'],
  devices: { writer: { kind: 'phone' }, reader: { kind: 'phone' } },
  async workload({ devices: { writer, reader }, expect, note }) {
    await reader.sync('app_launch');
    for (let i = 0; i < 3; i++) await writer.create('goals', { title: `goal ${i}`, status: 'active' });
    await writer.sync('manual');
    const pulled: number[] = [];
    for (let i = 0; i < 4; i++) pulled.push((await reader.sync('pull_to_refresh')).pulled);
    expect(
      pulled[0] === 3 && pulled.slice(1).every((n) => n === 0),
      `the reader pulls the 3 rows once (${pulled.join(', ')})`,
    );
    note(
      'proved: the same workload as checker-proof-sync-loop against the correct server pulls each change once; sync-loops passes here and flags the broken server there',
    );
  },
});
