import { defineScenario } from '../harness/index';
import type { SyncOutcome } from '../protocol/device';
import { TRIGGER_PLANS } from '../protocol/sync-triggers';

/**
 * RFC §2.6 on a phone that syncs by itself (`autoSync: true`): a full sync on cold start, the
 * 15-minute background fetch pulling only the core tables without moving the all-tables stamp,
 * workout complete pushing activities alone, critical before high before normal when queued, and
 * RFC 2.2.5's reconnect rule (sync only with pending changes).
 */
export default defineScenario({
  name: 'sync-triggers',
  title: 'RFC 2.6 sync triggers: priorities, table subsets, cold start, reconnect',
  tags: ['core', 'triggers'],
  // The 15-minute background fetch comes every 3 s of wall time.
  timeScale: 300,
  devices: { phone: { kind: 'phone', autoSync: true }, cloud: { kind: 'phone' } },
  // A sync while offline would be fault:active; the RFC's 99 % success holds on the others (fault:none,
  // the RFC default: 8/8 on seed 1, and no sync overlapped the offline fault).
  async workload({ devices: { phone, cloud }, nemesis, expect, note }) {
    const p = phone.driver('phone');
    const until = async <T>(get: () => T | undefined | Promise<T | undefined>, what: string): Promise<T> => {
      const end = performance.now() + 60_000;
      while (performance.now() < end) {
        const v = await get();
        if (v) return v;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`sync-triggers: timed out waiting for ${what}`);
    };
    const next = (trigger: SyncOutcome['trigger'], after: number) =>
      until(() => p.outcomes.slice(after).find((o) => o.trigger === trigger && o.ok), `a ${trigger} sync`);

    const launch = await next('app_launch', 0);
    expect(launch.scope === 'all', 'cold start is a full sync');

    const bg = await next('background_fetch', p.outcomes.indexOf(launch) + 1);
    const core = TRIGGER_PLANS.background_fetch.tables;
    expect(JSON.stringify(bg.scope) === JSON.stringify(core), `background fetch pulls ${String(core)} only`);
    const stamps = await p.pullStamps();
    expect(
      stamps.all === launch.lastPulledAt && (stamps.tables.activities ?? 0) >= (bg.lastPulledAt ?? Infinity),
      `a subset pull moves only its tables' stamps (all ${stamps.all}, activities ${stamps.tables.activities})`,
    );
    expect(stamps.tables.goals === undefined, 'goals keep the all-tables stamp');

    // Workout complete pushes activities; the goal waits for a sync that pulled goals.
    await cloud.sync('app_launch');
    await phone.create('activities', { sport: 'run', duration_s: 1800, rpe: 6 }, 'act-wc');
    await phone.create('goals', { kind: 'race', title: 'Sub-3:30', status: 'active' }, 'goal-later');
    const wc = await phone.sync('workout_complete');
    expect(wc.ok, `workout complete sync (${wc.error ?? ''})`);
    expect((await phone.pending()) >= 1, 'the goal is still pending after a workout-complete sync');
    await cloud.sync('manual');
    const seen = await cloud.snapshot();
    expect(
      seen.activities.some((r) => r.id === 'act-wc'),
      'the workout reached the cloud',
    );
    expect(!seen.goals.some((r) => r.id === 'goal-later'), 'the goal did not ride along with the workout');

    // Three triggers requested together run by priority: critical, high, normal.
    const [b, r, w] = await Promise.all([
      p.sync('background_fetch'),
      p.sync('pull_to_refresh'),
      p.sync('workout_complete'),
    ]);
    const at = (o: SyncOutcome) => p.outcomes.indexOf(o as (typeof p.outcomes)[number]);
    expect(at(w) < at(r) && at(r) < at(b), `run order: workout_complete, pull_to_refresh, background_fetch`);
    expect(r.ok && (await phone.pending()) === 0, 'pull-to-refresh (full) pushed the goal');

    // A change from the cloud pokes the phone into a sync.
    const before = p.outcomes.length;
    await cloud.create('scheduled_workouts', { plan_id: 'plan-1', date: '2026-12-09', title: 'Intervals' }, 'sw-new');
    await cloud.sync('manual');
    await next('poke', before);
    expect(
      (await phone.snapshot()).scheduled_workouts.some((x) => x.id === 'sw-new'),
      'the poke pulled the workout',
    );

    // RFC 2.2.5: connection restored → sync only with something to push.
    const drop = async () => {
      const off = await nemesis.start({ kind: 'offline', device: 'phone' });
      await until(() => !p.pokeStreamUp || undefined, 'the events stream to drop');
      return off;
    };
    let off = await drop();
    const skippedBefore = p.triggerEvents.filter((e) => e.action === 'skipped').length;
    await off.stop();
    await until(
      () => p.triggerEvents.filter((e) => e.trigger === 'reconnect' && e.action === 'skipped').length > skippedBefore,
      'the reconnect with nothing pending to be skipped',
    );
    off = await drop();
    await phone.create('daily_metrics', { date: '2026-12-08', resting_hr: 46, readiness: 80 }, 'dm-offline');
    const mark = p.outcomes.length;
    await off.stop();
    await next('reconnect', mark);
    expect((await phone.pending()) === 0, 'the reconnect sync delivered the offline check-in');
    note(
      `phone syncs: ${p.outcomes.map((o) => `${o.trigger}${o.scope === 'all' ? '' : `[${o.scope.join(',')}]`}`).join(' ')}`,
    );
  },
});
