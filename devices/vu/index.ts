export {
  fetchTestToken,
  type LatencyStats,
  type LoadOptions,
  type LoadReport,
  latencyStats,
  runVirtualUsers,
} from './load';
export { makeEdit, makeRow, rng } from './payloads';
export { createVirtualUser, VirtualUser, type VirtualUserOptions } from './virtual-user';
