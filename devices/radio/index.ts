/**
 * The virtual BLE radio (README.md): switch it on before noble/bleno load, then use the stacks as usual.
 */
export { SimClock, type SimClockOptions, type TimerHandle, type TimeScale } from './clock';
export { Controller, type HostPort } from './controller';
export { ENERGY_PROFILES, type EnergyCounters, type EnergyParams, energyOf, type RadioEnergy } from './energy';
export { type HubPeer, RadioPortClient, serveRadioPort } from './hub';
export {
  closeVirtualSockets,
  currentRadio,
  type InstallOptions,
  installVirtualRadio,
  isVirtualRadioWanted,
  loadBleno,
  loadNoble,
  nextSocketOptions,
  type VirtualRadio,
} from './install';
export type { LinkStats } from './link';
export { type LinkInfo, Medium, type MediumOptions, seededRng } from './medium';
export {
  connIntervalUs,
  LINK_PROFILE_NAMES,
  LINK_PROFILES,
  type LinkProfile,
  type LinkProfileName,
  llPdusFor,
  type Phy,
  pairUs,
  pduAirUs,
  resolveProfile,
  scheduleUs,
  streamTransferUs,
  theoreticalMinUs,
  writeWithResponseUs,
} from './profiles';
export { VirtualHciSocket } from './socket';
