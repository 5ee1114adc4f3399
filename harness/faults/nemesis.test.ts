/**
 * The nemesis and DeviceNetwork against the real embedded Toxiproxy and a real HTTP upstream:
 * faults are validated with the field's name, recorded with their targets, really cut the device's
 * traffic, and heal; a random nemesis is a function of the seed.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScaledClock, SkewedClock } from '../../protocol/clock';
import type { Device } from '../../protocol/device';
import { HarnessError } from '../../protocol/harness-error';
import { Rng } from '../../protocol/rng';
import { type ResolvedToxiproxy, resolveToxiproxy } from '../services/toxiproxy/provider';
import { Nemesis, type NemesisDeps } from './nemesis';
import { DeviceNetwork } from './network';
import { faultKinds, faultNeeds, faultPlanProblem, faultProblem } from './registry';
import type { FaultSpec } from './types';

let upstream: Server;
let tp: ResolvedToxiproxy;
const nets = new Map<string, DeviceNetwork>();

beforeAll(async () => {
  upstream = createServer((_req, res) => res.end('pong'));
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  tp = await resolveToxiproxy('embedded', { log: () => {}, seed: 1 });
  const port = (upstream.address() as AddressInfo).port;
  for (const id of ['a', 'b']) nets.set(id, await DeviceNetwork.create(tp.client, `nemesis-test-${id}`, port, tp));
});
afterAll(async () => {
  for (const n of nets.values()) await n.remove();
  await tp?.stop();
  await new Promise<void>((r) => upstream.close(() => r()));
});

/** A request through a device's proxy: 'pong', or the failure. */
async function ping(id: string): Promise<string> {
  try {
    const r = await fetch(`${nets.get(id)!.url}/`, { signal: AbortSignal.timeout(10_000) });
    return await r.text();
  } catch (e) {
    return `failed: ${(e as Error).message}`;
  }
}

function nemesisWith(overrides: Partial<NemesisDeps> = {}) {
  const events: Array<{ event: string; label: string; targets: string[]; error?: string }> = [];
  const clocks = { a: new SkewedClock(new ScaledClock(1)), b: new SkewedClock(new ScaledClock(1)) };
  const offsets: number[] = [];
  const device = (id: string) =>
    ({ id, kind: 'vu', setClockOffset: (ms: number) => offsets.push(ms) }) as unknown as Device;
  const nem = new Nemesis({
    clock: new ScaledClock(1000),
    network: (id) => nets.get(id)!,
    device,
    kind: () => undefined,
    deviceClock: (id) => clocks[id as 'a' | 'b'],
    deviceIds: () => ['a', 'b'],
    record: (event, _f, label, targets, error) => events.push({ event, label, targets, ...(error ? { error } : {}) }),
    ...overrides,
  });
  return { nem, events, clocks, offsets };
}

describe('fault validation', () => {
  it('names the field at fault', () => {
    const devs = ['a', 'b'];
    expect(faultProblem({ kind: 'latency', device: 'a', ms: 10 }, devs, 'f')).toBeUndefined();
    expect(faultProblem({ kind: 'latncy', device: 'a' }, devs, 'f')).toMatch(/^f\.kind must be one of .*latency/);
    expect(faultProblem({ kind: 'latency', device: 'zz', ms: 1 }, devs, 'f')).toMatch(
      /^f\.device names unknown device "zz"; devices: a, b/,
    );
    expect(faultProblem({ kind: 'latency', device: 'a' }, devs, 'f')).toMatch(/^f\.ms must be a number >= 0/);
    expect(faultProblem({ kind: 'latency', device: 'a', ms: 1, jiter: 2 }, devs, 'f')).toMatch(
      /^f\.jiter is not a field of latency/,
    );
    expect(faultProblem({ kind: 'flaky', device: 'a', resetProbability: 2 }, devs, 'f')).toMatch(/<= 1/);
    expect(faultProblem({ kind: 'partition', groups: [['a'], ['c']] }, devs, 'f')).toMatch(
      /^f\.groups \[1\] names unknown device "c"/,
    );
    expect(faultPlanProblem([{ at: -1, fault: { kind: 'offline', device: 'a' } }], devs)).toMatch(/faults\[0\]\.at/);
    expect(faultPlanProblem({ random: { kinds: ['network'], interval: [1, 2], duration: [1, 2] } }, devs)).toMatch(
      /network cannot be drawn at random/,
    );
    expect(faultPlanProblem({ random: { kinds: ['offline'], interval: [2, 1], duration: [1, 2] } }, devs)).toMatch(
      /interval/,
    );
  });
  it('every kind validates the faults its own random generator draws', () => {
    const rng = new Rng(5);
    for (const k of faultKinds()) {
      const f = k.random?.(rng, 'a', ['a', 'b']);
      if (f) expect(faultProblem(f, ['a', 'b'], k.kind)).toBeUndefined();
    }
  });
  it('what a plan needs from the run comes from its kinds', () => {
    expect([...faultNeeds([{ at: 0, fault: { kind: 'serverCrash' } }])]).toEqual(['childServer']);
    expect([
      ...faultNeeds({ random: { kinds: ['databaseRestart', 'offline'], interval: [1, 1], duration: [1, 1] } }),
    ]).toEqual(['database']);
    expect(faultNeeds(undefined, [{ kind: 'serverCrash' }]).has('childServer')).toBe(true);
  });
});

describe('Nemesis', () => {
  it('offline cuts only the named device, is recorded with its target, and heals', async () => {
    const { nem, events } = nemesisWith();
    expect(await ping('a')).toBe('pong');
    const f = await nem.start({ kind: 'offline', device: 'a' });
    expect(nem.activeFaults()).toEqual(['offline(device=a)']);
    expect(await ping('a')).toMatch(/^failed/);
    expect(await ping('b')).toBe('pong');
    await nem.stop(f);
    expect(await ping('a')).toBe('pong');
    expect(events).toEqual([
      { event: 'fault-start', label: 'offline(device=a)', targets: ['a'] },
      { event: 'fault-stop', label: 'offline(device=a)', targets: ['a'] },
    ]);
  });

  it('a partition cuts the second group; its targets are that group', async () => {
    const { nem, events } = nemesisWith();
    await nem.start({ kind: 'partition', groups: [['a'], ['b']] });
    expect(await ping('a')).toBe('pong');
    expect(await ping('b')).toMatch(/^failed/);
    await nem.heal();
    expect(await ping('b')).toBe('pong');
    expect(events.map((e) => e.targets)).toEqual([['b'], ['b']]);
  });

  it('rejects a bad fault before touching anything, naming the field', async () => {
    const { nem, events } = nemesisWith();
    const err = await nem.start({ kind: 'latency', device: 'nope', ms: 5 } as FaultSpec).catch((e) => e);
    expect(err).toBeInstanceOf(HarnessError);
    expect(err.message).toMatch(/fault\.device names unknown device "nope"/);
    expect(events).toEqual([]);
  });

  it('a fault needing a child server says so when the run has none', async () => {
    const { nem, events } = nemesisWith();
    await expect(nem.start({ kind: 'serverCrash' })).rejects.toThrow(
      /serverCrash needs the harness to start the server/,
    );
    expect(events).toEqual([]);
  });

  it('clock skew shifts the device clock the handle stamps writes with, and tells the driver', async () => {
    const { nem, clocks, offsets } = nemesisWith();
    const before = clocks.a.now();
    const f = await nem.start({ kind: 'clockSkew', device: 'a', ms: 3_600_000 });
    expect(clocks.a.now() - before).toBeGreaterThanOrEqual(3_600_000);
    expect(clocks.b.offsetMs).toBe(0);
    await nem.stop(f);
    expect(clocks.a.offsetMs).toBe(0);
    expect(offsets).toEqual([3_600_000, 0]);
  });

  it('a BLE fault on a device without a radio link is an error in the history', async () => {
    const { nem, events } = nemesisWith();
    await expect(nem.start({ kind: 'bleDisconnect', device: 'a' })).rejects.toThrow(/has no BLE link/);
    expect(events).toEqual([
      {
        event: 'fault-start',
        label: 'bleDisconnect(device=a)',
        targets: ['a'],
        error: expect.stringMatching(/no BLE link/),
      },
    ]);
  });

  it('heal() stops everything in reverse order; a scheduled fault heals after its duration', async () => {
    const { nem, events } = nemesisWith();
    await nem.start({ kind: 'latency', device: 'a', ms: 1 });
    await nem.start({ kind: 'offline', device: 'b' });
    await nem.heal();
    expect(events.filter((e) => e.event === 'fault-stop').map((e) => e.label)).toEqual([
      'offline(device=b)',
      'latency(device=a ms=1)',
    ]);
    events.length = 0;
    await nem.runSchedule(
      [{ at: 10, duration: 50, fault: { kind: 'offline', device: 'a' } }],
      new AbortController().signal,
    );
    expect(events.map((e) => e.event)).toEqual(['fault-start', 'fault-stop']);
    expect(nem.activeFaults()).toEqual([]);
    expect(await ping('a')).toBe('pong');
  });

  it('a random nemesis is a function of the seed', () => {
    const plan = {
      random: {
        kinds: ['offline', 'latency', 'partition', 'clockSkew'] as const,
        interval: [100, 500],
        duration: [50, 300],
      },
    } as const;
    const draw = (seed: number) =>
      Nemesis.expand(
        { random: { ...plan.random, kinds: [...plan.random.kinds], interval: [100, 500], duration: [50, 300] } },
        new Rng(seed).fork('nemesis'),
        ['a', 'b'],
        10_000,
      );
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
    expect(draw(42).length).toBeGreaterThan(5);
    for (const s of draw(42)) expect(faultProblem(s.fault, ['a', 'b'], 'f')).toBeUndefined();
  });
});
