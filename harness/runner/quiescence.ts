/**
 * After the workload: heal every fault, reset clocks, sync every device until a whole round moves
 * nothing, then read the final state — the server's through the contract, each contract device's
 * own snapshot.
 */
import type { TableRecords } from '../../protocol/records';
import type { DeviceFinalState, Violation } from '../checkers/types';
import type { Nemesis } from '../faults/nemesis';
import type { CheckResult } from '../results/types';
import type { RunDevice } from './device-set';
import type { DeviceHandle } from './scenario';
import { readServerState } from './server-state';

export const QUIESCENCE_ROUNDS = 8;
/** How long (wall ms) the upload queues may take to drain once every fault has healed. */
export const UPLOAD_DRAIN_BOUND_MS = 120_000;

/** What the end-of-run rule saw: heal, drained queues, quiescence (the final read follows). */
export interface EndOfRun {
  healed: string[];
  healError?: string;
  healMs: number;
  /** Devices whose upload queue had not settled within UPLOAD_DRAIN_BOUND_MS. */
  undrained: string[];
  drainMs: number;
  /** Sync rounds until one moved nothing (undefined: still moving after QUIESCENCE_ROUNDS). */
  quietAfterRounds?: number;
  quiesceMs: number;
  /** Devices whose last quiescence sync failed. */
  failing: string[];
}

/** Heal, let upload queues settle (bounded), sync to quiescence; what happened, for the end-of-run check. */
export async function healAndQuiesce(
  nemesis: Nemesis,
  devices: RunDevice[],
  handles: Record<string, DeviceHandle>,
): Promise<EndOfRun> {
  const healed = nemesis.activeFaults();
  let t = performance.now();
  let healError: string | undefined;
  await nemesis.heal().catch((e: Error) => {
    healError = e.message;
  });
  const healMs = performance.now() - t;
  for (const d of devices) d.clock.offsetMs = 0;
  t = performance.now();
  const deadline = t + UPLOAD_DRAIN_BOUND_MS;
  const undrained = new Set<string>();
  const drain = async () => {
    for (const d of devices) {
      if (!d.dev.uploadsSettled) continue;
      let timer: NodeJS.Timeout | undefined;
      const settled = await Promise.race([
        d.dev.uploadsSettled().then(
          () => true,
          () => true,
        ),
        new Promise<boolean>((r) => {
          timer = setTimeout(() => r(false), Math.max(0, deadline - performance.now()));
        }),
      ]);
      clearTimeout(timer);
      if (settled) undrained.delete(d.id);
      else undrained.add(d.id);
    }
  };
  await drain();
  const drainMs = performance.now() - t;
  t = performance.now();
  let quietAfterRounds: number | undefined;
  const failing = new Set<string>();
  let rounds = 0;
  const quiesce = async () => {
    quietAfterRounds = undefined;
    for (let round = 0; round < QUIESCENCE_ROUNDS && quietAfterRounds === undefined; round++) {
      let quiet = true;
      rounds++;
      for (const d of devices) {
        const out = await handles[d.id].sync('manual');
        if (out.ok) failing.delete(d.id);
        else failing.add(d.id);
        if (!out.ok || out.pushed > 0 || out.pulled > 0) quiet = false;
      }
      if (quiet) quietAfterRounds = rounds;
    }
  };
  await quiesce();
  // A file attached before its record was pushed starts uploading only after the sync that pushed
  // the record, i.e. during quiescence: drain again, and sync again if an upload was still queued.
  const queued = () => devices.some((d) => (safePending(d) ?? 0) > 0);
  if (queued()) {
    await drain();
    await quiesce();
  }
  return {
    ...{ healed, healMs, undrained: [...undrained], drainMs, quietAfterRounds, quiesceMs: performance.now() - t },
    ...{ failing: [...failing], ...(healError ? { healError } : {}) },
  };
}

function safePending(d: RunDevice): number | undefined {
  try {
    return d.dev.uploadSummary?.()?.pending;
  } catch {
    return undefined;
  }
}

/** The end-of-run rule as a check: every fault healed, queues drained within the bound, quiescence, final read. */
export function endOfRunCheck(e: EndOfRun, finalRead: number | undefined): CheckResult {
  const violations: Violation[] = [];
  if (e.healError) violations.push({ message: `healing failed: ${e.healError}` });
  for (const d of e.undrained)
    violations.push({
      device: d,
      message: `${d}'s upload queue did not drain within ${UPLOAD_DRAIN_BOUND_MS / 1000} s after the heal`,
    });
  if (e.quietAfterRounds === undefined)
    violations.push({
      message: `no quiescence: every one of ${QUIESCENCE_ROUNDS} sync rounds still moved data or failed${e.failing.length ? ` (still failing: ${e.failing.join(', ')})` : ''}`,
    });
  if (finalRead === undefined)
    violations.push({ message: 'the final read of the server and the devices did not happen' });
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const summary = [
    e.healed.length ? `healed ${e.healed.length} fault(s) in ${s(e.healMs)}` : 'no fault left to heal',
    e.undrained.length
      ? `upload queues of ${e.undrained.join(', ')} not drained within ${UPLOAD_DRAIN_BOUND_MS / 1000} s`
      : `upload queues drained in ${s(e.drainMs)} (bound ${UPLOAD_DRAIN_BOUND_MS / 1000} s)`,
    e.quietAfterRounds === undefined
      ? `not quiescent after ${QUIESCENCE_ROUNDS} sync rounds`
      : `quiescent after ${e.quietAfterRounds} of at most ${QUIESCENCE_ROUNDS} sync rounds (${s(e.quiesceMs)})`,
    finalRead === undefined ? 'no final read' : `final read of the server and ${finalRead} device(s)`,
  ].join('; ');
  return { name: 'end-of-run', passed: violations.length === 0, summary, violations, durationMs: 0 };
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
