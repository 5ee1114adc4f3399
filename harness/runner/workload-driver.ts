/**
 * The workload driver (Jepsen generators): a workload is a generator `(ctx) => Promise<void>`, and
 * generators compose — scripted steps, the seeded random workload, recorded steps, in sequence or
 * concurrently — while the nemesis runs its fault schedule beside them under the scenario timeout.
 */
import type { Clock } from '../../protocol/clock';
import type { Rng } from '../../protocol/rng';
import { TABLE_NAMES, type TableName } from '../../protocol/tables';
import { Nemesis } from '../faults/nemesis';
import type { FaultPlan } from '../faults/types';
import type { RunDevice } from './device-set';
import { runSteps } from './recorded';
import type { DeviceHandle, RandomWorkload, RecordedStep, ScenarioContext, ScenarioDefinition } from './scenario';
import { planDeviceOps, randomRecordValues, seedIds } from './workload';

export type Generator = (ctx: ScenarioContext) => Promise<void>;

export const gen = {
  /** The seeded random workload on the given devices (all by default), concurrently. */
  random:
    (w: RandomWorkload): Generator =>
    (ctx) =>
      ctx.random(w),
  /** Recorded steps with their original timing (shrink, field bugs). */
  steps:
    (steps: RecordedStep[]): Generator =>
    (ctx) =>
      runSteps(ctx, steps),
  /** One after the other. */
  sequence:
    (...gs: Generator[]): Generator =>
    async (ctx) => {
      for (const g of gs) await g(ctx);
    },
  /** All at once; done when every one is. */
  concurrent:
    (...gs: Generator[]): Generator =>
    async (ctx) => {
      await Promise.all(gs.map((g) => g(ctx)));
    },
};

/** A scenario's workload as one generator: its random part, then recorded steps, then the script. */
export function scenarioWorkload(def: ScenarioDefinition): Generator {
  const parts: Generator[] = [];
  if (def.random) parts.push(gen.random(def.random));
  if (def.steps) parts.push(gen.steps(def.steps));
  if (def.workload) parts.push(def.workload);
  return gen.sequence(...parts);
}

/**
 * `ctx.random()`: the first call per user seeds a shared pool of records (so updates and deletes
 * from every device hit the same rows); each device's operations are drawn from its own fork of the
 * seed, so the same seed gives the same operations whatever the timing.
 */
export class RandomWorkloadDriver {
  private readonly pools = new Map<string, ReturnType<typeof seedIds>>();
  private calls = 0;

  constructor(
    private readonly devices: ReadonlyMap<string, RunDevice>,
    private readonly handles: Record<string, DeviceHandle>,
    private readonly rng: Rng,
    private readonly clock: Clock,
    /** What the server serves (a target's adapter): the workload writes only these tables, deletes only if it applies them. */
    private readonly served?: { tables: readonly TableName[]; deletes: boolean },
  ) {}

  async run(input: RandomWorkload): Promise<void> {
    const { devices, handles, rng } = this;
    const w = this.restrict(input);
    const call = this.calls++;
    const targets = w.devices ?? [...devices.keys()];
    const byUser = new Map<string, string[]>();
    for (const id of targets) byUser.set(devices.get(id)!.user, [...(byUser.get(devices.get(id)!.user) ?? []), id]);
    for (const [user, devs] of byUser) {
      if (this.pools.has(user)) continue;
      const pool = seedIds(rng.fork(`pool-${user}`), user, 3, this.served?.tables);
      this.pools.set(user, pool);
      const first = handles[devs[0]];
      const v = devices.get(devs[0])!.spec.schemaVersion ?? 2;
      const prng = rng.fork(`pool-values-${user}`);
      for (const p of pool) await first.create(p.table, randomRecordValues(prng, p.table, v, false), p.id);
      await first.sync('app_launch');
      for (const other of devs.slice(1)) await handles[other].sync('app_launch');
    }
    await Promise.all(
      targets.map(async (id) => {
        const d = devices.get(id)!;
        const plan = planDeviceOps(
          rng.fork(`ops-${id}-${call}`),
          `${id}.${call}`,
          d.spec.schemaVersion ?? 2,
          w,
          this.pools.get(d.user)!,
        );
        const h = handles[id];
        for (const op of plan) {
          if (op.kind === 'think') await this.clock.sleep(op.ms);
          else if (op.kind === 'sync') await h.sync('manual');
          else if (op.kind === 'create') await h.create(op.table, op.values, op.id).catch(() => {});
          else if (op.kind === 'update') await h.update(op.table, op.id, op.values).catch(() => {});
          else await h.delete(op.table, op.id).catch(() => {});
        }
      }),
    );
  }

  private restrict(w: RandomWorkload): RandomWorkload {
    const all = w.tables ?? Object.fromEntries(TABLE_NAMES.map((t) => [t, 1]));
    const tables = Object.fromEntries(
      Object.entries(all).filter(([t, n]) => n && (!this.served || this.served.tables.includes(t as TableName))),
    );
    if (!Object.keys(tables).length)
      throw Object.assign(
        new Error(
          `the random workload's tables (${Object.keys(all).join(', ')}) are all outside what the target serves (${this.served?.tables.join(', ')})`,
        ),
        { code: 'HRN_ERR_SCENARIO' },
      );
    return { ...w, tables, mix: this.served && !this.served.deletes ? { ...w.mix, delete: 0 } : w.mix };
  }
}

/**
 * Run the workload and the nemesis's schedule concurrently under the scenario timeout. The schedule
 * is stopped when the workload ends; its errors become notes.
 */
export async function driveWorkload(o: {
  workload: Generator;
  ctx: ScenarioContext;
  nemesis: Nemesis;
  faults?: FaultPlan;
  rng: Rng;
  deviceIds: string[];
  timeoutMs: number;
  note(message: string): void;
}): Promise<void> {
  const abort = new AbortController();
  const steps = o.faults ? Nemesis.expand(o.faults, o.rng.fork('nemesis'), o.deviceIds, 60_000) : [];
  // The handler is attached now, not in `finally`: a heal that fails while the workload still runs
  // would otherwise be an unhandled rejection and kill the whole harness process (every scenario).
  const schedule = o.nemesis.runSchedule(steps, abort.signal).catch((e) => o.note(`nemesis: ${(e as Error).message}`));
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      o.workload(o.ctx),
      new Promise((_, reject) => {
        timer = setTimeout(
          () =>
            reject(new Error(`scenario timed out after ${o.timeoutMs} ms (raise timeoutMs in the scenario or config)`)),
          o.timeoutMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
    abort.abort();
    await schedule;
  }
}
