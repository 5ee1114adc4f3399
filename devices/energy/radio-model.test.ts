import { describe, expect, it } from 'vitest';
import { batteryJoules, EnergyMeter, LAPTOP_WIFI, PHONE_3G, PHONE_LTE, PHONE_WIFI, UMTS_3G } from './radio-model';
import { energyProfileOf, energySpecProblem } from './spec';

describe('radio energy model', () => {
  it('an isolated 1 s LTE sync costs about what the reference works out (≈12.7 J incl. tail, ≈0.02 %)', () => {
    const m = new EnergyMeter({ ...PHONE_LTE, cpuActiveW: 0 });
    // 0.4 Mbps each way for 1 s, as in network-and-energy-references.md.
    const e = m.record({ startedAt: 0, durationMs: 1000, bytesUp: 50_000, bytesDown: 50_000 });
    expect(e.totalJ).toBeGreaterThan(12);
    expect(e.totalJ).toBeLessThan(13.5);
    expect(m.reading().batteryPct).toBeLessThan(0.03);
  });

  it('a 1 s sync on 3G costs the reference ≈9.5 J (2 s promotion, DCH, 5 s DCH + 12 s FACH tail)', () => {
    const m = new EnergyMeter({ ...PHONE_3G, cpuActiveW: 0 });
    // 10 kB each way: within 1 s at 3G's link rate, so the measured second is the air time.
    const e = m.record({ startedAt: 0, durationMs: 1000, bytesUp: 10_000, bytesDown: 10_000 });
    expect(e.totalJ).toBeCloseTo(2 * 0.53 + 0.7 * 1 + 5 * 0.7 + 12 * 0.35, 6);
  });

  it('3G: a sync in the FACH part of the tail pays FACH→DCH, not IDLE→DCH', () => {
    const m = new EnergyMeter({ ...PHONE_3G, cpuActiveW: 0 });
    m.record({ startedAt: 0, durationMs: 1000, bytesUp: 0, bytesDown: 0 });
    // Ends at 1 s; 8 s later the radio is 3 s into FACH.
    const e = m.record({ startedAt: 9_000, durationMs: 1000, bytesUp: 0, bytesDown: 0 });
    expect(e.promotionJ).toBeCloseTo(1.5 * 0.55);
    const d = m.reading().details;
    expect(d.tailJ).toBeCloseTo(5 * 0.7 + 3 * 0.35 + 5 * 0.7 + 12 * 0.35);
    expect(UMTS_3G.tail.map((t) => t.name)).toEqual(['dch', 'fach']);
  });

  it('syncs inside one LTE tail share it: no second promotion, shorter tail', () => {
    const apart = new EnergyMeter(PHONE_LTE);
    apart.record({ startedAt: 0, durationMs: 200, bytesUp: 1000, bytesDown: 1000 });
    apart.record({ startedAt: 60_000, durationMs: 200, bytesUp: 1000, bytesDown: 1000 });
    const batched = new EnergyMeter(PHONE_LTE);
    batched.record({ startedAt: 0, durationMs: 200, bytesUp: 1000, bytesDown: 1000 });
    batched.record({ startedAt: 2_000, durationMs: 200, bytesUp: 1000, bytesDown: 1000 });
    expect(batched.reading().joules).toBeLessThan(apart.reading().joules * 0.7);
    expect(batched.reading().details?.promotionJ).toBeCloseTo(0.26 * 1.21);
  });

  it('Wi-Fi is far cheaper than LTE for the same sync', () => {
    const lte = new EnergyMeter(PHONE_LTE);
    const wifi = new EnergyMeter(PHONE_WIFI);
    for (const m of [lte, wifi]) m.record({ startedAt: 0, durationMs: 300, bytesUp: 20_000, bytesDown: 80_000 });
    expect(wifi.reading().joules * 10).toBeLessThan(lte.reading().joules);
  });

  it('CPU: measured CPU time is charged when given, else the awake time', () => {
    const a = new EnergyMeter(PHONE_WIFI).record({ startedAt: 0, durationMs: 500, bytesUp: 0, bytesDown: 0 });
    const b = new EnergyMeter(PHONE_WIFI).record({
      startedAt: 0,
      durationMs: 500,
      bytesUp: 0,
      bytesDown: 0,
      cpuMs: 50,
    });
    expect(a.cpuJ).toBeCloseTo(0.6 * 0.5);
    expect(b.cpuJ).toBeCloseTo(0.6 * 0.05);
  });

  it('the reading spans from begin() to the end of the last tail, for per-day figures', () => {
    const m = new EnergyMeter(PHONE_LTE);
    m.begin(1_000);
    m.record({ startedAt: 60_000, durationMs: 100, bytesUp: 0, bytesDown: 0 });
    expect(m.reading().spanMs).toBeCloseTo(60_000 + 100 + 10_100 - 1_000);
    expect(m.reading().radio).toBe('lte');
  });
});

describe('energy profile from a device spec', () => {
  it('radio from the spec, else from the network preset, else the kind default; battery in mAh or Wh', () => {
    expect(energyProfileOf({ radio: '3g' }, PHONE_LTE).radio.kind).toBe('3g');
    expect(energyProfileOf({ network: 'wifi' }, PHONE_LTE).radio.kind).toBe('wifi');
    expect(energyProfileOf({ network: 'slow-3g' }, PHONE_LTE).name).toBe('phone-3g');
    expect(energyProfileOf({ network: 'lossy' }, LAPTOP_WIFI).radio.kind).toBe('wifi');
    expect(energyProfileOf({ battery: { mAh: 3000 } }, PHONE_LTE).batteryMah).toBe(3000);
    const wh = energyProfileOf({ battery: { wh: 15.4, volts: 3.85 } }, PHONE_LTE);
    expect(batteryJoules(wh)).toBeCloseTo(15.4 * 3600);
    expect(() => energyProfileOf({ radio: 'ble' }, PHONE_LTE)).toThrow(/watch's radio/);
  });

  it('bad radio or battery fields are named', () => {
    expect(energySpecProblem('p', { radio: 'ble' }, ['lte', 'wifi'])).toMatch(
      /devices\.p\.radio must be one of lte, wifi/,
    );
    expect(energySpecProblem('p', { battery: { mAh: -1 } })).toMatch(/battery\.mAh must be a number > 0/);
    expect(energySpecProblem('p', { battery: { mAh: 1, wh: 1 } })).toMatch(/not both/);
    expect(energySpecProblem('p', { battery: { volts: 3 } })).toMatch(/needs mAh or wh/);
    expect(energySpecProblem('p', { battery: { mah: 3 } as never })).toMatch(/unknown field "mah"/);
    expect(energySpecProblem('p', { radio: 'wifi', battery: { wh: 50 } })).toBeUndefined();
  });
});
