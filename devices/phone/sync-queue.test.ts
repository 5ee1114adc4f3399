import { describe, expect, it } from 'vitest';
import type { SyncTrigger } from '../../protocol/device';
import { SyncQueue } from './sync-queue';

/** A queue whose syncs finish only when the test says so, recording the order they started in. */
function harness() {
  const started: SyncTrigger[] = [];
  const finish: Array<() => void> = [];
  const q = new SyncQueue<SyncTrigger>(
    (t) =>
      new Promise((resolve) => {
        started.push(t);
        finish.push(() => resolve(t));
      }),
  );
  const until = async (n: number) => {
    while (started.length < n) await new Promise((r) => setImmediate(r));
  };
  return { q, started, finish, until };
}

describe('SyncQueue (RFC §2.6 priorities)', () => {
  it('runs waiting triggers critical, then high, then normal; equal priorities in request order', async () => {
    const { q, started, finish, until } = harness();
    const first = q.request('manual');
    await until(1);
    const rest = [
      q.request('background_fetch'),
      q.request('pull_to_refresh'),
      q.request('checkin_submit'),
      q.request('app_launch'),
      q.request('workout_complete'),
    ];
    expect(q.queued).toEqual([
      'checkin_submit',
      'workout_complete',
      'pull_to_refresh',
      'app_launch',
      'background_fetch',
    ]);
    for (let i = 1; i <= 6; i++) {
      finish[i - 1]!();
      if (i < 6) await until(i + 1);
    }
    await Promise.all([first, ...rest]);
    expect(started).toEqual([
      'manual',
      'checkin_submit',
      'workout_complete',
      'pull_to_refresh',
      'app_launch',
      'background_fetch',
    ]);
    await q.idle();
  });

  it('a burst requested together is ordered by priority, not arrival', async () => {
    const { q, started, finish, until } = harness();
    const ps = [q.request('background_fetch'), q.request('workout_complete')];
    await until(1);
    expect(started).toEqual(['workout_complete']);
    finish[0]!();
    await until(2);
    finish[1]!();
    await Promise.all(ps);
    expect(started).toEqual(['workout_complete', 'background_fetch']);
  });

  it('automatic requests collapse: the same trigger rides along, a covered subset is answered by a full sync', async () => {
    const { q, started, finish, until } = harness();
    const running = q.request('manual');
    await until(1);
    const bg1 = q.request('background_fetch', true);
    const bg2 = q.request('background_fetch', true);
    const launch = q.request('app_launch', true);
    // Not covered by anything: activities only vs. an 'all' sync → it is; daily_metrics explicit → own sync.
    const explicit = q.request('checkin_submit');
    finish[0]!();
    await until(2);
    expect(started[1]).toBe('checkin_submit');
    finish[1]!();
    await until(3);
    expect(started[2]).toBe('app_launch');
    finish[2]!();
    // The full sync answered both background fetches; no fourth sync runs.
    expect(await Promise.all([running, explicit, launch, bg1, bg2])).toEqual([
      'manual',
      'checkin_submit',
      'app_launch',
      'app_launch',
      'app_launch',
    ]);
    await q.idle();
    expect(started).toHaveLength(3);
  });
});
