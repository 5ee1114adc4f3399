import type { PhoneDevice } from '../devices/phone/phone';
import { defineScenario } from '../harness/index';

/**
 * The appBackground fault on a phone that syncs by itself: in the background the app keeps no
 * events stream, so a change from the cloud does not poke it into a sync; only the 15-minute
 * background fetch runs (and pulls the core tables). Back in the foreground the stream reopens, and
 * with a local change pending that is a reconnect sync (RFC 2.2.5) that pushes it.
 */
export default defineScenario({
  name: 'app-background',
  title: 'App in the background: background fetch only, no poke syncs; foreground reconnects',
  tags: ['faults', 'triggers'],
  // The 15-minute background fetch comes every 3 s of wall time.
  timeScale: 300,
  devices: { phone: { kind: 'phone', autoSync: true }, cloud: { kind: 'phone' } },
  async workload({ devices: { phone, cloud }, nemesis, expect }) {
    const p = phone.driver('phone') as PhoneDevice;
    const next = async (trigger: string, after: number) => {
      const end = performance.now() + 60_000;
      while (performance.now() < end) {
        const o = p.outcomes.slice(after).find((x) => x.trigger === trigger && x.ok);
        if (o) return o;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`app-background: timed out waiting for a ${trigger} sync`);
    };
    await next('app_launch', 0);
    await cloud.sync('app_launch');

    const bg = await nemesis.start({ kind: 'appBackground', device: 'phone' });
    const from = p.outcomes.length;
    await phone.create('goals', { kind: 'race', title: 'written in the background', status: 'active' }, 'bg-goal');
    await cloud.create('scheduled_workouts', { plan_id: 'plan-1', date: '2026-12-09', title: 'Hills' }, 'bg-sw');
    expect((await cloud.sync('manual')).ok, 'the cloud pushed a workout (a poke to the phone)');
    const fetch = await next('background_fetch', from);
    const during = p.outcomes.slice(from, p.outcomes.indexOf(fetch) + 1).map((o) => o.trigger);
    expect(
      !during.includes('poke') && !during.includes('reconnect'),
      `in the background only background fetch synced (${during.join(', ')})`,
    );
    expect(
      (await phone.snapshot()).scheduled_workouts.some((x) => x.id === 'bg-sw'),
      'background fetch pulled the workout',
    );
    expect((await phone.pending()) > 0, 'the goal (not a core table) waits for a foreground sync');

    const fg = p.outcomes.length;
    await bg.stop();
    await next('reconnect', fg);
    expect((await phone.pending()) === 0, 'back in the foreground the reconnect sync pushed the goal');
    await cloud.sync('manual');
    expect(
      (await cloud.snapshot()).goals.some((g) => g.id === 'bg-goal'),
      'the goal reached the cloud',
    );
  },
});
