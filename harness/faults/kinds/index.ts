/**
 * Every fault kind, one module each. A new kind is a new file here plus its line below; the
 * nemesis, the loader's validation and the README table read this list.
 */
import type { FaultPlugin } from '../plugin';
import { fault as appBackground } from './app-background';
import { fault as appKill } from './app-kill';
import { fault as bandwidth } from './bandwidth';
import { fault as bleDisconnect } from './ble-disconnect';
import { fault as bleOutOfRange } from './ble-out-of-range';
import { fault as clockSkew } from './clock-skew';
import { fault as corrupt } from './corrupt';
import { fault as databasePartition } from './database-partition';
import { fault as databaseRestart } from './database-restart';
import { fault as flaky } from './flaky';
import { fault as latency } from './latency';
import { fault as limitData } from './limit-data';
import { fault as lostLocalWrites } from './lost-local-writes';
import { fault as maintenance } from './maintenance';
import { fault as network } from './network';
import { fault as offline } from './offline';
import { fault as partition } from './partition';
import { fault as pause } from './pause';
import { fault as resetSyncState } from './reset-sync-state';
import { fault as serverCrash } from './server-crash';
import { fault as slowClose } from './slow-close';
import { fault as timeout } from './timeout';

export const FAULT_KINDS: readonly FaultPlugin<any>[] = [
  offline,
  latency,
  bandwidth,
  flaky,
  slowClose,
  timeout,
  limitData,
  network,
  partition,
  serverCrash,
  databaseRestart,
  clockSkew,
  appKill,
  appBackground,
  bleOutOfRange,
  bleDisconnect,
  pause,
  databasePartition,
  lostLocalWrites,
  maintenance,
  resetSyncState,
  corrupt,
];
