/**
 * Watch ↔ phone over the virtual radio: real bleno (in a worker per watch) and real noble (here),
 * only the HCI socket is virtual. Times asserted are simulated; wall time only bounds the test.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { installVirtualRadio } from '../radio/install';
import { type Medium, seededRng } from '../radio/medium';
import { LINK_PROFILE_NAMES, LINK_PROFILES, type LinkProfileName, streamTransferUs } from '../radio/profiles';
import { WatchBridge } from './bridge';
import { makeContextPack } from './context-fixture';
import { type ActivityPack, encodeContextPack } from './protocol';
import { type SimWatch, startSimWatch } from './sim-watch';

const SHA = {
  'run-30min': 'c5b75c8cf552ad8ff19a6384cad73d9772d35e400b23849c910e355636a762d0',
  'ride-2h-power': 'e8500457dca4c83a76d144eaa05c37946411d0938ce5fc6f103c8b57c989be6d',
  'tiny-1min': '793fab7858fc51801074f5f19eb9551970244eb1e4b3616d64a5a7753255968c',
};
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function rig(opts: { seed: number; profile?: LinkProfileName; dataDir?: string | null; id?: string }) {
  const radio = installVirtualRadio({ seed: opts.seed });
  const medium = radio.medium!;
  const watch = await startSimWatch({
    id: opts.id ?? `w${opts.seed}`,
    medium,
    profile: opts.profile ?? 'best',
    dataDir: opts.dataDir === undefined ? null : opts.dataDir,
  });
  const bridge = new WatchBridge({ watchAddress: watch.address });
  const received: ActivityPack[] = [];
  bridge.onActivityPack((p) => {
    received.push(p);
  });
  bridge.onContextRequest(() => makeContextPack({ version: 1 }));
  cleanup.push(async () => {
    await bridge.stop();
    await watch.stop();
    medium.close();
  });
  await bridge.start();
  await bridge.waitUntilReachable();
  return { medium, watch, bridge, received };
}

function nextActivity(bridge: WatchBridge): Promise<void> {
  return new Promise((r) => bridge.once('activity', () => r()));
}

async function until(medium: Medium, cond: () => boolean | Promise<boolean>, simMs = 600_000): Promise<void> {
  const end = medium.clock.now() + simMs;
  while (!(await cond())) {
    if (medium.clock.now() > end) throw new Error('condition not met in simulated time');
    await medium.clock.sleep(100);
  }
}

async function reconnected(bridge: WatchBridge, medium: Medium): Promise<void> {
  if (bridge.reachable) await new Promise<void>((r) => bridge.once('reachability', () => r()));
  await bridge.waitUntilReachable(120_000);
  void medium;
}

describe('watch sync over the virtual radio', () => {
  it('context pack (~50 KB) over each link profile: simulated time vs the 10 s target', async () => {
    const { medium, watch, bridge } = await rig({ seed: 11, profile: 'best' });
    const rows: Record<string, unknown>[] = [];
    let version = 10;
    for (const name of LINK_PROFILE_NAMES) {
      // New profile, new connection (the ATT MTU is negotiated once per connection).
      watch.faults.setProfile(name);
      watch.faults.disconnect();
      await reconnected(bridge, medium);
      expect(bridge.mtu).toBe(LINK_PROFILES[name].attMtu);
      const pack = makeContextPack({ version: ++version, targetBytes: 50_000 });
      const bytes = encodeContextPack(pack).length;
      const t0 = medium.clock.now();
      expect(await bridge.sendContextPack(pack)).toBe(true);
      const simMs = medium.clock.now() - t0;
      const floorMs = streamTransferUs(LINK_PROFILES[name], bytes) / 1000;
      rows.push({
        profile: name,
        bytes,
        simS: +(simMs / 1000).toFixed(2),
        physicsFloorS: +(floorMs / 1000).toFixed(2),
      });
      expect(simMs).toBeGreaterThanOrEqual(floorMs);
      expect((await watch.state()).contextVersion).toBe(version);
      if (name === 'worst') expect(simMs).toBeGreaterThan(10_000);
      if (name === 'best' || name === 'android-fast' || name === 'ios-typical') expect(simMs).toBeLessThan(10_000);
    }
    console.table(rows);
    const e = watch.energy()!;
    expect(e.chargeMC).toBeGreaterThan(0);
    expect(e.batteryPct).toBeGreaterThan(0);
  });

  it('activity pack: FIT arrives byte-identical (sha256), summary and battery come along', async () => {
    const { medium, watch, bridge, received } = await rig({ seed: 12, profile: 'ios-typical' });
    const got = nextActivity(bridge);
    const id = await watch.recordActivity({ fixture: 'run-30min', rpe: 6, notes: 'easy' });
    await got;
    expect(received).toHaveLength(1);
    expect(received[0].activityId).toBe(id);
    expect(sha256(received[0].fitFile)).toBe(SHA['run-30min']);
    expect(received[0].summary).toMatchObject({ sport: 'running', durationS: 1800, avgHr: 144 });
    expect(received[0]).toMatchObject({ rpe: 6, notes: 'easy' });
    expect(bridge.battery).toBe(85);
    // The watch drops the pack once the phone's `done` reaches it.
    await until(medium, async () => (await watch.state()).queue.length === 0);
    // It booted without a context pack, asked for one (request_context) and got the provider's.
    await until(medium, async () => (await watch.state()).contextVersion === 1);
  });

  it('disconnects at random blocks: both directions resume, no duplicate, no corruption', async () => {
    const { medium, watch, bridge, received } = await rig({ seed: 13, profile: 'android-fast' });
    const rng = seededRng(13);
    let cuts = 0;
    const armCut = () => {
      if (cuts >= 3) return;
      cuts++;
      watch.faults.disconnect({ afterBytes: 8_000 + Math.floor(rng() * 40_000) });
    };
    bridge.onReachability((r) => r && armCut());
    armCut();
    const got = nextActivity(bridge);
    await watch.recordActivity({ fixture: 'ride-2h-power' });
    await got;
    expect(cuts).toBeGreaterThanOrEqual(2);
    expect(received).toHaveLength(1);
    expect(sha256(received[0].fitFile)).toBe(SHA['ride-2h-power']);
    const ins = bridge.transfers.filter((t) => t.direction === 'from-watch');
    expect(ins.some((t) => t.outcome === 'interrupted')).toBe(true);
    expect(ins.some((t) => t.outcome === 'done' && t.resumedFrom > 0)).toBe(true);

    // Phone → watch: the same with a context pack.
    cuts = 0;
    armCut();
    const pack = makeContextPack({ version: 42, targetBytes: 50_000 });
    while (!(await bridge.sendContextPack(pack))) await reconnected(bridge, medium);
    const outs = (await watch.state()).transfers.filter((t) => t.kind === 'context' && t.id === 'context-42');
    expect(outs.at(-1)?.outcome).toBe('done');
    expect(outs.some((t) => t.outcome === 'interrupted')).toBe(true);
    expect(outs.some((t) => t.resumedFrom > 0)).toBe(true);
    expect((await watch.contextPack())?.engineBundle).toBe(pack.engineBundle);
    // Nothing else arrived twice.
    await medium.clock.sleep(1000);
    expect(received).toHaveLength(1);
  });

  it('live link profile change mid-transfer: the rest goes faster; the MTU stays until a reconnect', async () => {
    const { medium, watch, bridge, received } = await rig({ seed: 16, profile: 'worst' });
    const got = nextActivity(bridge);
    const t0 = medium.clock.now();
    await watch.recordActivity({ fixture: 'run-30min' }); // ~34 KB pack: ~52 s on `worst`
    await medium.clock.sleep(10_000);
    expect(received).toHaveLength(0);
    watch.faults.setProfile('best'); // interval, PHY and data length change on the live link
    await got;
    const simMs = medium.clock.now() - t0;
    expect(simMs).toBeGreaterThan(10_000);
    expect(simMs).toBeLessThan(20_000);
    expect(bridge.mtu).toBe(23);
    expect(sha256(received[0].fitFile)).toBe(SHA['run-30min']);
  });

  it('watch out of range, reboot with a pending queue: everything arrives once after it is back', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'watch-test-'));
    const { medium, watch, bridge, received } = await rig({ seed: 14, profile: 'older-phone', dataDir });
    watch.faults.setInRange(false);
    await new Promise<void>((r) => bridge.once('reachability', () => r()));
    expect(bridge.reachable).toBe(false);
    // Phone side: a context pack sent while away is queued.
    expect(await bridge.sendContextPack(makeContextPack({ version: 7 }))).toBe(false);
    expect(bridge.queuedContextVersion).toBe(7);
    // Watch side: two workouts recorded while away, then a crash.
    const a = await watch.recordActivity({ fixture: 'tiny-1min' });
    const b = await watch.recordActivity({ fixture: 'swim-pool-laps' });
    expect((await watch.state()).queue.map((q) => q.activityId)).toEqual([a, b]);
    await watch.faults.reboot();
    expect((await watch.state()).queue.map((q) => q.activityId)).toEqual([a, b]);
    await medium.clock.sleep(30_000);
    expect(received).toHaveLength(0);
    watch.faults.setInRange(true);
    await until(medium, () => received.length === 2);
    expect(received.map((p) => p.activityId)).toEqual([a, b]);
    expect(sha256(received[0].fitFile)).toBe(SHA['tiny-1min']);
    await until(medium, async () => (await watch.state()).queue.length === 0);
    await until(medium, () => bridge.queuedContextVersion === null);
    expect((await watch.state()).contextVersion).toBe(7);
    await medium.clock.sleep(1000);
    expect(received).toHaveLength(2);
  });

  it('a context pack cut by a watch reboot resumes from the blocks in the watch store', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'watch-test-'));
    const { medium, watch, bridge } = await rig({ seed: 17, profile: 'older-phone', dataDir });
    await until(medium, async () => (await watch.state()).contextVersion === 1);
    const pack = makeContextPack({ version: 8, targetBytes: 50_000 });
    const first = bridge.sendContextPack(pack); // ~15 s on this profile
    await medium.clock.sleep(6_000);
    await watch.faults.reboot();
    expect(await first).toBe(false);
    await until(medium, async () => (await watch.state()).contextVersion === 8);
    const resumed = (await watch.state()).transfers.find((t) => t.id === 'context-8' && t.outcome === 'done');
    expect(resumed?.resumedFrom).toBeGreaterThan(0);
    expect((await watch.contextPack())?.engineBundle).toBe(pack.engineBundle);
  });

  it('several watches at once, each with its own phone', async () => {
    const radio = installVirtualRadio({ seed: 15 });
    const medium = radio.medium!;
    const n = 4;
    const watches: SimWatch[] = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        startSimWatch({ id: `multi-${i}`, medium, profile: i % 2 ? 'ios-typical' : 'android-fast', dataDir: null }),
      ),
    );
    const bridges = watches.map((w) => new WatchBridge({ watchAddress: w.address }));
    cleanup.push(async () => {
      for (const b of bridges) await b.stop();
      await Promise.all(watches.map((w) => w.stop()));
      medium.close();
    });
    const got = bridges.map(
      (b) =>
        new Promise<ActivityPack>((r) => {
          b.onActivityPack((p) => r(p));
        }),
    );
    await Promise.all(bridges.map((b) => b.start()));
    await Promise.all(bridges.map((b) => b.waitUntilReachable()));
    const ids = await Promise.all(watches.map((w) => w.recordActivity({ fixture: 'run-30min' })));
    const packs = await Promise.all(got);
    expect(packs.map((p) => p.activityId)).toEqual(ids);
    for (const p of packs) expect(sha256(p.fitFile)).toBe(SHA['run-30min']);
    const pack = makeContextPack({ version: 99, targetBytes: 50_000 });
    expect(await Promise.all(bridges.map((b) => b.sendContextPack(pack)))).toEqual(bridges.map(() => true));
    for (const w of watches) expect((await w.state()).contextVersion).toBe(99);
  });
});
