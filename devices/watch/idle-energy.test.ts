import { describe, expect, it } from 'vitest';
import { ENERGY_PROFILES, emptyCounters, energyOf } from '../radio/energy';
import { LINK_PROFILES, pairUs } from '../radio/profiles';
import { idleCharge } from './idle-energy';

describe('idle BLE energy over the scenario time the radio clock did not cover', () => {
  const p = LINK_PROFILES['ios-typical'];
  const w = ENERGY_PROFILES['mcu-watch'];
  it('charges one empty event per connection interval, as the link model does per event', () => {
    const day = 86_400_000;
    const r = idleCharge(day, 1, p, w);
    expect(r.events).toBe(Math.floor(day / p.connIntervalMs));
    const c = emptyCounters();
    c.connEvents = r.events;
    c.radioUs = r.events * pairUs(p.phy, 0, 0);
    expect(r.chargeMC).toBeCloseTo(energyOf(c, w).chargeMC, 6);
    expect(r.batteryPct).toBeGreaterThan(0);
  });
  it('only for the connected share, and nothing for no gap', () => {
    expect(idleCharge(3_600_000, 0.5, p, w).events).toBe(Math.floor(1_800_000 / p.connIntervalMs));
    expect(idleCharge(-5, 1, p, w).events).toBe(0);
    expect(idleCharge(3_600_000, 0, p, w).chargeMC).toBe(0);
  });
});
