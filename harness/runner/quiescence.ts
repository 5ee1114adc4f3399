/**
 * After the workload: heal every fault, reset clocks, sync every device until a whole round moves
 * nothing, then read the final state — the server's through the contract, each contract device's
 * own snapshot.
 */
import type { TableRecords } from '../../protocol/records';
import type { DeviceFinalState } from '../checkers/types';
import type { Nemesis } from '../faults/nemesis';
import type { RunDevice } from './device-set';
import type { DeviceHandle } from './scenario';
import { readServerState } from './server-state';

export const QUIESCENCE_ROUNDS = 8;

/** Heal, let upload queues settle, sync to quiescence; false when a round still moved data after QUIESCENCE_ROUNDS. */
export async function healAndQuiesce(
  nemesis: Nemesis,
  devices: RunDevice[],
  handles: Record<string, DeviceHandle>,
): Promise<boolean> {
  await nemesis.heal();
  for (const d of devices) d.clock.offsetMs = 0;
  for (const d of devices) await d.dev.uploadsSettled?.().catch(() => {});
  for (let round = 0; round < QUIESCENCE_ROUNDS; round++) {
    let quiet = true;
    for (const d of devices) {
      const out = await handles[d.id].sync('manual');
      if (!out.ok || out.pushed > 0 || out.pulled > 0) quiet = false;
    }
    if (quiet) return true;
  }
  return false;
}

export interface FinalState {
  server: Record<string, TableRecords>;
  devices: Array<DeviceFinalState & { snapshot: TableRecords }>;
}

export async function readFinalState(
  serverUrl: string,
  devices: RunDevice[],
  into: FinalState,
  serverUser: (user: string) => string = (u) => u,
): Promise<void> {
  for (const u of new Set(devices.map((d) => d.user))) into.server[u] = await readServerState(serverUrl, serverUser(u));
  for (const d of devices) {
    if (d.kind.talks !== 'contract') continue;
    into.devices.push({
      id: d.id,
      user: d.user,
      snapshot: await d.dev.snapshot(),
      pendingChanges: await d.dev.pendingChanges(),
      schemaVersion: d.spec.schemaVersion ?? 2,
    });
  }
}
