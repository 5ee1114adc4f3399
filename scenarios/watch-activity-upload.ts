import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineScenario } from '../harness/index';

/**
 * An activity recorded on the watch while the phone is away reaches the phone with its FIT file
 * byte-identical (sha256) and its summary reaches the server exactly once.
 */
export default defineScenario({
  name: 'watch-activity-upload',
  title: 'Watch activity → phone (FIT intact) → server once',
  tags: ['watch', 'ble'],
  devices: {
    phone: { kind: 'phone' },
    watch: { kind: 'watch', pairedWith: 'phone', linkProfile: 'ios-typical' },
    web: { kind: 'vu' },
  },
  async workload({ devices: { phone, watch, web }, nemesis, expect }) {
    const w = watch.driver('watch');
    let receivedSha = '';
    w.bridge.once('activity', (_rec: unknown, pack: { fitFile: Buffer }) => {
      receivedSha = createHash('sha256').update(pack.fitFile).digest('hex');
    });
    const away = await nemesis.start({ kind: 'bleOutOfRange', device: 'watch' });
    await watch.create('activities', { sport: 'run', rpe: 7, notes: 'tempo on the track' }, 'watch-act-1');
    expect((await watch.pending()) === 1, 'the watch queues the activity pack while the phone is away');
    await away.stop();
    await w.bridge.waitUntilReachable(120_000);
    const s = await watch.sync('watch_connect');
    expect(s.ok, `the queued pack is delivered on reconnect (${s.error ?? ''})`);
    const fit = readFileSync(join(import.meta.dirname, '..', 'fixtures', 'fit', 'run-30min.fit'));
    const expected = createHash('sha256').update(fit).digest('hex');
    expect(
      receivedSha === expected,
      `the FIT file arrives byte-identical (sha256 ${receivedSha.slice(0, 12)}… vs ${expected.slice(0, 12)}…)`,
    );
    await web.sync('app_launch');
    const acts = (await web.snapshot()).activities.filter((a) => a.id === 'watch-act-1');
    expect(acts.length === 1, `the server has the activity exactly once (${acts.length})`);
    expect(
      acts[0]?.rpe === 7 && acts[0]?.duration_s === 1800 && acts[0]?.source_device === 'watch',
      'summary and subjective fields arrived',
    );
    expect(
      expected === 'c5b75c8cf552ad8ff19a6384cad73d9772d35e400b23849c910e355636a762d0',
      'the fixture matches its MANIFEST checksum',
    );
    await phone.sync();
  },
});
