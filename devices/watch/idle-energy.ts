/**
 * The watch's idle BLE energy over the scenario's own time. The virtual radio runs its own simulated
 * clock, which lives through transfers and the wall time between them, not through a time-scaled
 * scenario's day: a day that passes in 40 s of wall time leaves the radio clock some 40 s older, so
 * the link model counts only that many idle connection events. A connected peripheral still answers
 * every connection event with an empty PDU (no peripheral latency in this link model), so the
 * scenario time the radio clock did not cover is charged here, at the link's connection interval,
 * for the share of radio time the link was connected.
 */
import { type EnergyParams, emptyCounters, energyOf } from '../radio/energy';
import { type LinkProfile, pairUs, pduAirUs } from '../radio/profiles';

export interface IdleCharge {
  /** Scenario ms the radio clock did not live through. */
  gapMs: number;
  /** Of which connected (the observed connected share applied to the gap). */
  connectedMs: number;
  events: number;
  chargeMC: number;
  batteryPct: number;
  joules: number;
}

/**
 * Charge of the empty connection events in `gapMs` (scenario minus radio time): per event one empty
 * packet pair on the air plus the radio ramp (both at `radioMA`) and one wake-up (`wakeUC`), the
 * same per-event terms the link model charges (devices/radio/energy.ts cites each).
 */
export function idleCharge(
  gapMs: number,
  connectedShare: number,
  profile: Pick<LinkProfile, 'phy' | 'connIntervalMs'>,
  params: EnergyParams,
): IdleCharge {
  const connectedMs = Math.max(0, gapMs) * Math.min(1, Math.max(0, connectedShare));
  const events = Math.floor(connectedMs / profile.connIntervalMs);
  const c = emptyCounters();
  c.connEvents = events;
  c.radioUs = events * pairUs(profile.phy, 0, 0);
  c.txUs = events * pduAirUs(profile.phy, 0);
  c.rxUs = c.txUs;
  const e = energyOf(c, params);
  return {
    gapMs: Math.max(0, gapMs),
    connectedMs,
    events,
    chargeMC: e.chargeMC,
    batteryPct: e.batteryPct,
    joules: e.joules,
  };
}
