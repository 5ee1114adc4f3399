import { defineScenario } from '../harness/index';

/** The phone is away for a simulated day: the watch records and queues; when back, every pack arrives, in order. */
export default defineScenario({
  name: 'watch-offline-day',
  title: 'Phone away for a day: queued packs arrive in order',
  tags: ['watch', 'ble'],
  devices: { phone: { kind: 'phone' }, watch: { kind: 'watch', pairedWith: 'phone', linkProfile: 'ios-typical' } },
  async workload({ devices: { phone, watch }, nemesis, expect, note }) {
    const w = watch.driver('watch');
    const order: string[] = [];
    w.bridge.on('activity', (_r: unknown, p: { activityId: string }) => order.push(p.activityId));
    const away = await nemesis.start({ kind: 'bleOutOfRange', device: 'watch' });
    const ids: string[] = [];
    const sports = ['run', 'ride', 'swim', 'run', 'strength', 'run'];
    for (let h = 0; h < sports.length; h++) {
      // Four simulated hours between workouts on the radio's clock.
      await w.radioClock.sleep(4 * 3_600_000);
      ids.push(await watch.create('activities', { sport: sports[h], rpe: h + 2, notes: `workout ${h}` }, `day-${h}`));
    }
    expect((await watch.pending()) === ids.length, `all ${ids.length} packs queued on the watch`);
    await away.stop();
    await w.bridge.waitUntilReachable(600_000);
    const s = await watch.sync('watch_connect');
    expect(s.ok, `the queue drains when the phone is back (${s.error ?? ''})`);
    expect(JSON.stringify(order) === JSON.stringify(ids), `packs arrive in recording order (${order.join(', ')})`);
    await phone.sync();
    note(`watch energy after the day: ${w.energy().batteryPct.toFixed(4)} % of battery (modelled)`);
  },
});
