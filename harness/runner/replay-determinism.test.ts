/**
 * `harness replay` repeats the fault draws of a run: the run's seed reaches the embedded proxy
 * (per-proxy streams, so one device's toxic decisions depend only on its own traffic) and the
 * virtual radio (reseeded per scenario). Real proxy, real TCP, fresh connection per request.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Medium } from '../../devices/radio/medium';
import { DeviceNetwork } from '../faults/network';
import { resolveToxiproxy } from '../services/toxiproxy/provider';

let upstream: Server;
beforeAll(async () => {
  upstream = createServer((_req, res) => res.end('pong'));
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
});
afterAll(() => new Promise<void>((r) => upstream.close(() => r())));

function get(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(true));
      res.on('error', () => resolve(false));
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/** Which of 24 requests through a flaky (reset 50 %) device proxy got through, on a fresh proxy seeded `seed`. */
async function toxicDecisions(seed: number, otherTrafficFirst: boolean): Promise<boolean[]> {
  const tp = await resolveToxiproxy('embedded', { log: () => {}, seed });
  const port = (upstream.address() as AddressInfo).port;
  try {
    const other = await DeviceNetwork.create(tp.client, 'replay-other', port, tp);
    await other.flaky(0.5);
    const net = await DeviceNetwork.create(tp.client, 'replay-phone', port, tp);
    await net.flaky(0.5);
    // Another device's traffic must not shift this device's draws.
    if (otherTrafficFirst) for (let i = 0; i < 7; i++) await get(`${other.url}/`);
    const out: boolean[] = [];
    for (let i = 0; i < 24; i++) out.push(await get(`${net.url}/`));
    return out;
  } finally {
    await tp.stop();
  }
}

describe('replay determinism', () => {
  it('two runs with one seed make the same toxic decisions; another seed does not', async () => {
    const a = await toxicDecisions(1234, false);
    const b = await toxicDecisions(1234, true);
    expect(a).toEqual(b);
    expect(a).toContain(true);
    expect(a).toContain(false);
    expect(await toxicDecisions(99, false)).not.toEqual(a);
  });

  it('the virtual radio restarts its draws from the scenario seed', () => {
    const m = new Medium({ seed: 5 });
    const captured = m.rng; // links keep the function they were given
    m.reseed(42);
    const first = [captured(), captured(), captured()];
    m.reseed(42);
    expect([m.rng(), m.rng(), m.rng()]).toEqual(first);
    m.reseed(43);
    expect(captured()).not.toBe(first[0]);
  });
});
