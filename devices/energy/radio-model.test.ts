import { describe, expect, it } from 'vitest';
import { EnergyMeter, PHONE_LTE, PHONE_WIFI } from './radio-model';

describe('radio energy model', () => {
  it('an isolated 1 s LTE sync costs about what the reference works out (≈12.7 J incl. tail, ≈0.02 %)', () => {
    const m = new EnergyMeter({ ...PHONE_LTE, cpuAwakeW: 0 });
    // 0.4 Mbps each way for 1 s, as in network-and-energy-references.md.
    const e = m.record({ startedAt: 0, durationMs: 1000, bytesUp: 50_000, bytesDown: 50_000 });
    expect(e.totalJ).toBeGreaterThan(12);
    expect(e.totalJ).toBeLessThan(13.5);
    expect(m.reading().batteryPct).toBeLessThan(0.03);
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
});
