/**
 * The recording handle scenarios drive a device through: every write and sync becomes an
 * invoke/complete pair in the history, stamped with the device's own clock (skew included), and a
 * kill is an appKill fault of the nemesis.
 */
import {
  blankSyncOutcome,
  type Device,
  type DeviceDrivers,
  type FileAttachment,
  type SyncOutcome,
} from '../../protocol/device';
import { HarnessError } from '../../protocol/harness-error';
import type { Rng } from '../../protocol/rng';
import { isTableName, TABLE_NAMES } from '../../protocol/tables';
import type { Nemesis } from '../faults/nemesis';
import type { History } from '../history/index';
import type { RunDevice } from './device-set';
import type { LiveSyncStats } from './live-stats';
import type { DeviceHandle } from './scenario';

export interface HandleDeps {
  rec: History;
  rng: Rng;
  nemesis: Nemesis;
  /** Memory samples per device (after a sync, at most one a second: a phone's sample costs a full GC). */
  memory: Map<string, number[]>;
  /** Running sync counts and durations for the live progress line. */
  live?: LiveSyncStats;
}

export function recordingHandle(d: RunDevice, { rec, rng, nemesis, memory, live }: HandleDeps): DeviceHandle {
  let lastMemorySample = Number.NEGATIVE_INFINITY;
  const { id } = d;
  let killed: Awaited<ReturnType<Nemesis['start']>> | undefined;
  const write = async (op: Parameters<Device['write']>[0]) => {
    // The scenario's mistake, named before any device sees it (a driver would fail on the missing schema).
    if (!isTableName(op.table))
      throw new HarnessError(
        'HRN_ERR_SCENARIO',
        `${op.op} on device "${id}": unknown table ${JSON.stringify(op.table)}; tables: ${TABLE_NAMES.join(', ')}`,
      );
    const values = op.op === 'delete' ? undefined : { ...op.values };
    if (values && values.updated_at === undefined) values.updated_at = d.clock.now();
    const c = rec.invoke({
      f: op.op,
      device: id,
      user: d.user,
      table: op.table,
      id: op.id,
      values,
      deviceTime: d.clock.now(),
    });
    try {
      await d.dev.write(values ? ({ ...op, values } as typeof op) : op);
      c.ok();
    } catch (e) {
      c.fail({ error: (e as Error).message });
      throw e;
    }
  };
  return {
    id,
    kind: d.spec.kind,
    user: d.user,
    async create(table, values, rid) {
      const rowId = rid ?? rng.id(String(table).slice(0, 3));
      await write({ op: 'create', table, id: rowId, values });
      return rowId;
    },
    update: (table, rid, values) => write({ op: 'update', table, id: rid, values }),
    delete: (table, rid) => write({ op: 'delete', table, id: rid }),
    async sync(trigger = 'manual') {
      const c = rec.invoke({ f: 'sync', device: id, user: d.user, trigger });
      let out: SyncOutcome;
      try {
        out = await d.dev.sync(trigger);
      } catch (e) {
        out = blankSyncOutcome(trigger, { attempts: 1, indeterminate: true, error: (e as Error).message });
      }
      live?.record(out.durationMs, out.ok);
      c.complete(out.ok ? 'ok' : out.indeterminate ? 'info' : 'fail', {
        pulled: out.pulled,
        pushed: out.pushed,
        conflicts: out.conflicts,
        bytesUp: out.bytesUp,
        bytesDown: out.bytesDown,
        ...(out.error ? { error: out.error } : {}),
        extra: {
          attempts: out.attempts,
          durationMs: out.durationMs,
          lastPulledAt: out.lastPulledAt,
          ...(out.retries?.length ? { retries: out.retries } : {}),
          ...(out.fullResync ? { fullResync: true } : {}),
          ...(out.tokenRefreshes ? { tokenRefreshes: out.tokenRefreshes } : {}),
          // Pulled rows the device resolved against its own unpushed changes (phones report them):
          // lost-writes needs to know a write left the device unaltered.
          ...(localConflictsOf(out) ? { localConflicts: localConflictsOf(out) } : {}),
          ...(out.scope !== undefined ? { scope: out.scope } : {}),
        },
      });
      if (d.dev.memoryBytes && performance.now() - lastMemorySample >= 1000) {
        lastMemorySample = performance.now();
        const m = await d.dev.memoryBytes().catch(() => undefined);
        if (m !== undefined) memory.set(id, [...(memory.get(id) ?? []), m]);
      }
      return out;
    },
    snapshot: () => d.dev.snapshot(),
    pending: () => d.dev.pendingChanges(),
    now: () => d.clock.now(),
    raw: d.dev,
    driver<K extends keyof DeviceDrivers>(kind: K): DeviceDrivers[K] {
      if (d.dev.kind !== kind)
        throw new HarnessError('HRN_ERR_SCENARIO', `device "${id}" is a ${d.dev.kind}, not a ${kind}`);
      return d.dev as DeviceDrivers[K];
    },
    // A kill is an appKill fault (recorded, healed by restart() or at the end of the workload).
    kill: async () => {
      killed = await nemesis.start({ kind: 'appKill', device: id });
    },
    restart: async () => {
      const k = killed;
      killed = undefined;
      if (k) return nemesis.stop(k);
      if (!d.dev.restart) throw new Error(`device ${id} (${d.dev.kind}) cannot restart`);
      await d.dev.restart();
    },
  };
}

function localConflictsOf(out: SyncOutcome): Array<{ table: string; id: string }> | undefined {
  const l = (out as { localConflicts?: Array<{ table: string; id: string }> }).localConflicts;
  return Array.isArray(l) ? l.map(({ table, id }) => ({ table, id })) : undefined;
}

/** Wire every paired device (a watch) to its peer's handle, through its kind's `pair`. */
export function pairDevices(devices: RunDevice[], handles: Record<string, DeviceHandle>, rec: History): void {
  for (const d of devices) {
    if (!d.kind.pair || !d.spec.pairedWith) continue;
    const peer = handles[d.spec.pairedWith];
    const peerDev = devices.find((x) => x.id === peer.id);
    const dev = peerDev?.dev;
    const attachFile = async (file: FileAttachment) => {
      await dev!.attachFile!(file);
    };
    d.kind.pair(d.dev as DeviceDrivers[typeof d.kind.kind], {
      id: d.id,
      peer: {
        id: peer.id,
        dataDir: peerDev?.dataDir ?? '',
        create: (table, values, rid) => peer.create(table, values, rid),
        sync: (trigger) => peer.sync(trigger),
        // Asked at each transfer: a bridged app says per launch whether it has an upload queue.
        get attachFile() {
          return dev?.attachFile && dev.attachesFiles?.() !== false ? attachFile : undefined;
        },
        snapshot: () => peer.snapshot(),
        now: () => peer.now(),
      },
      event: (e) => rec.event(e),
    });
  }
}
