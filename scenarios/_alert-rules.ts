import type { DeviceHandle, ScenarioContext } from '../harness/index';
import type { SyncOutcome } from '../protocol/device';

/** Wall ms each way on phone B's and the vu's links while their pushes race phone A's edit of the same row. */
export const RACE_LATENCY_MS = 1000;
/**
 * Wall ms each way on every device's link in the slow phase, whose syncs only pull (one round trip,
 * about 12 s). Not a push after a pull: over a link this slow the server has closed the kept-alive
 * connection (keepAliveTimeoutMs 5 s < 2 × latency) before the push reaches it, and the push fails
 * with "other side closed" on every attempt (seen at 3 s each way).
 */
export const SLOW_LATENCY_MS = 6000;
export const OUTAGE_ROUNDS = 2;
export const CONFLICT_ROUNDS = 3;

export interface AlertTrafficFigures {
  outage: { syncs: number; failed: number };
  /** `byA`: phone A's syncs among them that reported a conflict. */
  race: { syncs: number; conflicted: number; byA: number };
  slow: { syncs: number; over10s: number; secs: number[] };
  all: { syncs: number; failed: number };
}

/**
 * The traffic of the §5.3 alert scenarios: three devices of one user (two phones and a virtual user)
 * in four phases. With `causes` each phase carries the cause of one alert; without, the same writes
 * and syncs in the same order run on a healthy stack, which is what `alert-rules-quiet` proves quiet.
 *
 * 1. baseline: each device writes and syncs.
 * 2. outage (sync-failure-rate): the server process is killed (SIGKILL) and stays down while each
 *    device writes and syncs OUTAGE_ROUNDS times, each sync failing after its RFC backoff (6
 *    attempts). Restarted, each device syncs what it kept.
 * 3. concurrent edits (conflict-rate): all three devices edit the same goal, CONFLICT_ROUNDS times.
 *    Phone B and the vu edit it and sync over a link slowed by RACE_LATENCY_MS; once B's push is on
 *    the wire (its pull done), phone A edits and syncs, so both slow pushes carry a lastPulledAt older
 *    than A's write and the server reports each as a conflict. Quiet: the devices edit in turn, each
 *    pulling the last edit before making its own, so no push is stale.
 * 4. slow link (sync-latency): phone A writes and syncs, then SLOW_LATENCY_MS each way on every
 *    device's link while all three pull at once.
 */
export async function alertTraffic(ctx: ScenarioContext, causes: boolean): Promise<AlertTrafficFigures> {
  const { devices, nemesis, expect } = ctx;
  const a = devices.phoneA!;
  const b = devices.phoneB!;
  const all = Object.values(devices);
  const others = all.filter((d) => d !== a);
  const outcomes: SyncOutcome[] = [];
  const sync = async (d: DeviceHandle, trigger: Parameters<DeviceHandle['sync']>[0] = 'manual') => {
    const o = await d.sync(trigger);
    outcomes.push(o);
    return o;
  };

  // 1. baseline
  for (const d of all) await d.create('goals', { title: `${d.id} baseline`, status: 'active' });
  for (const d of all) expect((await sync(d, 'app_launch')).ok, `${d.id}: baseline sync ok`);

  // 2. outage
  const outage: SyncOutcome[] = [];
  const down = causes ? await nemesis.start({ kind: 'serverCrash' }) : undefined;
  for (let r = 0; r < OUTAGE_ROUNDS; r++) {
    for (const d of all) await d.create('goals', { title: `${d.id} outage ${r}`, status: 'active' });
    outage.push(...(await Promise.all(all.map((d) => sync(d)))));
  }
  await down?.stop();
  for (const d of all) expect((await sync(d)).ok, `${d.id}: syncs after the outage`);

  // 3. the same row edited by all three devices
  const race: SyncOutcome[] = [];
  const raceA = new Set<SyncOutcome>();
  await a.create('goals', { title: 'shared', status: 'active' }, 'goal-shared');
  expect((await sync(a)).ok, 'phone A pushes the shared goal');
  for (const d of others) expect((await sync(d)).ok, `${d.id} pulls the shared goal`);
  const pb = b.driver('phone');
  for (let r = 0; r < CONFLICT_ROUNDS; r++) {
    const n = race.length;
    if (causes) {
      for (const d of others) await d.update('goals', 'goal-shared', { title: `${d.id} ${r}` });
      const slow = await Promise.all(
        others.map((d) => nemesis.start({ kind: 'latency', device: d.id, ms: RACE_LATENCY_MS })),
      );
      const pending = others.map((d) => sync(d));
      // Phone B's pull is done and its push is on the slow link; the vu started at the same moment on
      // the same link. Phone A's edit lands on the server before either push arrives.
      const end = performance.now() + 30_000;
      while (pb.syncPhase !== 'push' && performance.now() < end) await new Promise((res) => setTimeout(res, 5));
      expect(pb.syncPhase === 'push', `round ${r}: phone B's push is on the wire`);
      await a.update('goals', 'goal-shared', { title: `phoneA ${r}` });
      const oa = await sync(a);
      raceA.add(oa);
      race.push(oa, ...(await Promise.all(pending)));
      for (const s of slow) await s.stop();
    } else {
      // In turn: each device pulls the last edit before making its own.
      for (const d of [...others, a]) {
        const before = await sync(d);
        await d.update('goals', 'goal-shared', { title: `${d.id} ${r}` });
        const after = await sync(d);
        race.push(before, after);
        if (d === a) raceA.add(before).add(after);
      }
    }
    expect(
      race.slice(n).every((o) => o.ok),
      `round ${r}: every sync ok`,
    );
  }

  // 4. slow link: phone A writes and syncs; then every device pulls (nothing of its own to push)
  for (let i = 0; i < 3; i++) await a.create('goals', { title: `before the slow link ${i}`, status: 'active' });
  expect((await sync(a)).ok, 'phone A pushes before the slow link');
  const slowed = causes
    ? await Promise.all(all.map((d) => nemesis.start({ kind: 'latency', device: d.id, ms: SLOW_LATENCY_MS })))
    : [];
  const slow = await Promise.all(all.map((d) => sync(d, 'pull_to_refresh')));
  for (const s of slowed) await s.stop();
  expect(
    slow.every((o) => o.ok),
    `every pull over the slow link completed (${slow.map((o) => o.error ?? 'ok').join(', ')})`,
  );

  const conflicted = (o: SyncOutcome) => o.ok && o.conflicts.length > 0;
  const okSecs = slow.filter((o) => o.ok).map((o) => Math.round(o.durationMs / 100) / 10);
  return {
    outage: { syncs: outage.length, failed: outage.filter((o) => !o.ok).length },
    race: {
      syncs: race.length,
      conflicted: race.filter(conflicted).length,
      byA: [...raceA].filter(conflicted).length,
    },
    slow: { syncs: slow.length, over10s: okSecs.filter((s) => s > 10).length, secs: okSecs },
    all: { syncs: outcomes.length, failed: outcomes.filter((o) => !o.ok).length },
  };
}
