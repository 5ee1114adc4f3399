import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { aclPacket, addrToBuf, H4_COMMAND, OP } from './hci';
import { Medium } from './medium';
import {
  LINK_PROFILES,
  type LinkProfile,
  type LinkProfileName,
  streamTransferUs,
  theoreticalMinUs,
  writeWithResponseUs,
} from './profiles';

const KB50 = 51_200;
const KB200 = 204_800;

/** Two bare controllers (no noble/bleno) with a link of `profile`; hosts just record what they get. */
async function pair(profile: LinkProfile, seed = 1) {
  const medium = new Medium({ seed, defaultProfile: profile });
  const central = medium.createController();
  const periph = medium.createController('c0:de:00:00:99:99');
  const got: { central: Buffer[]; periph: Buffer[] } = { central: [], periph: [] };
  central.attach({ deliver: (p) => got.central.push(p) });
  periph.attach({ deliver: (p) => got.periph.push(p) });
  periph.setAdvertising(true);
  const cmd = Buffer.alloc(29);
  cmd.writeUInt8(H4_COMMAND, 0);
  cmd.writeUInt16LE(OP.LE_CREATE_CONN, 1);
  cmd.writeUInt8(25, 3);
  addrToBuf(periph.address).copy(cmd, 10);
  cmd.writeUInt16LE(42, 23); // supervision timeout 420 ms
  central.fromHost(cmd);
  while (central.links.size === 0) await medium.clock.sleep(1);
  const link = [...central.links.values()][0];
  return { medium, central, periph, link, got, hc: link.handleOf(central), hp: link.handleOf(periph) };
}

/** One ATT PDU (opcode, handle, value) as an HCI ACL packet with its L2CAP header. */
function att(handle: number, opcode: number, value: Buffer): Buffer {
  const l2 = Buffer.alloc(4 + 3 + value.length);
  l2.writeUInt16LE(3 + value.length, 0);
  l2.writeUInt16LE(0x0004, 2);
  l2.writeUInt8(opcode, 4);
  l2.writeUInt16LE(0x0010, 5);
  value.copy(l2, 7);
  return aclPacket(handle, 0, l2);
}

const settle = (medium: Medium) => medium.clock.whenIdle();

/** Stream `chunks` notifications from the peripheral; simulated µs from the first data event to the last. */
async function notifyStream(profile: LinkProfile, chunks: number[], seed = 1): Promise<number> {
  const { medium, periph, link, hp } = await pair(profile, seed);
  for (const n of chunks) periph.fromHost(att(hp, 0x1b, Buffer.alloc(n, 7)));
  await settle(medium);
  const us = link.stats.lastDataEndUs! - link.stats.firstDataUs!;
  medium.close();
  return us;
}

function chunksOf(bytes: number, size: number): number[] {
  const out: number[] = [];
  for (let off = 0; off < bytes; off += size) out.push(Math.min(size, bytes - off));
  return out;
}

const within1pct = (actual: number, expected: number) =>
  expect(Math.abs(actual - expected) / expected).toBeLessThanOrEqual(0.01);

describe('link model vs the design note (ble-virtual-radio.md §3/§5 tables)', () => {
  const p = (n: LinkProfileName): LinkProfile => ({ ...LINK_PROFILES[n] });

  it('analytical formulas reproduce the table', () => {
    within1pct(streamTransferUs(p('worst'), KB50) / 1e6, 76.8);
    within1pct(streamTransferUs(p('worst'), KB200) / 1e6, 307.2);
    within1pct(writeWithResponseUs(p('worst'), KB50) / 1e6, 153.6);
    within1pct(writeWithResponseUs(p('worst'), KB200) / 1e6, 614.4);
    within1pct(streamTransferUs(p('best'), KB50) / 1e6, 0.315);
    within1pct(streamTransferUs(p('best'), KB200) / 1e6, 1.26);
    within1pct(writeWithResponseUs(p('best'), KB50) / 1e6, (KB50 / 244) * 2 * 0.0075);
    // legacy row: 3.4-5.2 kB/s → 10-15 s for 50 KB; iOS-like row: 0.65-1.3 s.
    const legacy = streamTransferUs(p('older-phone'), KB50) / 1e6;
    expect(legacy).toBeGreaterThan(10);
    expect(legacy).toBeLessThan(15.5);
    const ios = streamTransferUs(p('ios-typical'), KB50) / 1e6;
    expect(ios).toBeGreaterThan(0.65);
    expect(ios).toBeLessThan(1.3);
  });

  it.each([
    ['worst', KB50, 76.8],
    ['worst', KB200, 307.2],
    ['best', KB50, 0.315],
    ['best', KB200, 1.26],
  ] as const)('simulated notify stream on %s, %i B ≈ table (%f s)', async (name, bytes, table) => {
    const prof = p(name);
    const us = await notifyStream(prof, chunksOf(bytes, prof.attMtu - 3));
    within1pct(us / 1e6, table);
    expect(us).toBe(streamTransferUs(prof, bytes));
  });

  it('write requests take two connection intervals each', async () => {
    const prof = p('worst');
    const { medium, central, periph, hc, hp, link } = await pair(prof);
    let ops = 0;
    const n = 50;
    // The peripheral host answers every write request with a write response, as bleno does.
    periph.attach({
      deliver: (pkt) => {
        if (pkt[0] === 0x02 && pkt[9] === 0x12) {
          periph.fromHost(att(hp, 0x13, Buffer.alloc(0)));
        }
      },
    });
    const write = () => central.fromHost(att(hc, 0x12, Buffer.alloc(prof.attMtu - 3, 1)));
    central.attach({
      deliver: (pkt) => {
        if (pkt[0] === 0x02 && pkt[9] === 0x13 && ++ops < n) write();
      },
    });
    const t0 = medium.clock.nowUs();
    write();
    await settle(medium);
    expect(ops).toBe(n);
    const us = link.stats.lastDataEndUs! - t0;
    within1pct(us / 1e6, writeWithResponseUs(prof, n * (prof.attMtu - 3)) / 1e6);
    medium.close();
  });

  it('loss makes transfers slower, never corrupt or duplicated', async () => {
    const prof = { ...p('worst'), lossRate: 0.2 };
    const { medium, periph, central, link, hp, got } = await pair(prof, 3);
    const chunks = chunksOf(2000, 20);
    for (const [i, n] of chunks.entries()) periph.fromHost(att(hp, 0x1b, Buffer.alloc(n, i)));
    await settle(medium);
    const values = got.central.filter((b) => b[0] === 0x02).map((b) => b.subarray(12));
    expect(values.map((v) => v[0])).toEqual(chunks.map((_, i) => i & 0xff));
    expect(link.stats.lostPairs).toBeGreaterThan(0);
    expect(link.stats.lastDataEndUs! - link.stats.firstDataUs!).toBeGreaterThan(streamTransferUs(prof, 2000));
    void central;
    medium.close();
  });
});

describe('physics floor (property)', () => {
  const profileArb = fc.record({
    name: fc.constant('random'),
    phy: fc.constantFrom('1M' as const, '2M' as const),
    llPayload: fc.integer({ min: 27, max: 251 }),
    connIntervalMs: fc.integer({ min: 6, max: 80 }).map((u) => u * 1.25),
    pktsPerEvent: fc.integer({ min: 1, max: 12 }),
    attMtu: fc.integer({ min: 23, max: 247 }),
    source: fc.constant('property test'),
  });

  it('a simulated transfer is never faster than the theoretical minimum of its profile', async () => {
    await fc.assert(
      fc.asyncProperty(
        profileArb,
        fc.array(fc.integer({ min: 1, max: 244 }), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 1, max: 1000 }),
        async (prof, sizes, seed) => {
          const chunks = sizes.map((s) => Math.min(s, prof.attMtu - 3));
          const bytes = chunks.reduce((a, b) => a + b, 0);
          const us = await notifyStream(prof, chunks, seed);
          expect(us).toBeGreaterThanOrEqual(theoreticalMinUs(prof, bytes));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('full MTU-3 chunks hit the analytical stream time exactly', async () => {
    await fc.assert(
      fc.asyncProperty(profileArb, fc.integer({ min: 1, max: 6000 }), async (prof, bytes) => {
        const us = await notifyStream(prof, chunksOf(bytes, prof.attMtu - 3));
        expect(us).toBe(streamTransferUs(prof, bytes));
      }),
      { numRuns: 40 },
    );
  });
});
