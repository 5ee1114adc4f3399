/**
 * Simulated watches and the phone's watch bridge (README.md). For the harness `Device` wrapper (kind
 * `watch`): `startSimWatch({ id, medium, profile })` → a running watch (worker thread) with
 * `recordActivity`, `state`, `energy`, `faults`, `stop`; `WatchBridge` on the phone side.
 */
export {
  type ActivityHandler,
  type BridgeTransferRecord,
  type ContextProvider,
  WatchBridge,
  type WatchBridgeOptions,
} from './bridge';
export { type ContextPackSpec, makeContextPack } from './context-fixture';
export { createWatchDevice, WatchDevice, type WatchDeviceOptions } from './device';
export { type FitFixture, loadFitFixture, summarizeFit, VALID_FIT_FIXTURES } from './fit';
export type { RecordActivityInput, TransferRecord, WatchState } from './peripheral';
export {
  ACTIVITY_PACK,
  type ActivityPack,
  type ActivitySummary,
  BATTERY_LEVEL,
  BATTERY_SERVICE,
  BLOCK_SIZE,
  CONTEXT_PACK,
  CONTROL_POINT,
  type ContextPack,
  type ControlMessage,
  decodeActivityPack,
  decodeContextPack,
  encodeActivityPack,
  encodeContextPack,
  type HeartRateZones,
  type PaceZones,
  PROTOCOL_VERSION,
  type ScheduledWorkout,
  type TransferMeta,
  WATCH_SYNC_SERVICE,
  WINDOW,
} from './protocol';
export {
  type ActivityInput,
  SimWatch,
  type SimWatchOptions,
  startSimWatch,
  WatchFleet,
  watchAddress,
} from './sim-watch';
export { type QueuedActivity, WatchStore } from './store';
