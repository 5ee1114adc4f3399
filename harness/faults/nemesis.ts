/**
 * The nemesis (Jepsen): applies and heals faults, on a schedule, at random from the seed, or when a
 * scripted workload asks. What a fault does is its plugin's business (kinds/); the nemesis
 * validates, records every start and stop in the history (so reports draw faults on the timeline,
 * checkers tell which operations ran under which fault, and shrink can replay them), and heals.
 */
import { setMaxListeners } from 'node:events';
import type { Rng } from '../../protocol/rng';
import type { FaultContext, FaultDetails, FaultNeed } from './plugin';
import { faultPlugin, validateFault } from './registry';
import { describeFault, type FaultPlan, type FaultSpec, type ScheduledFault } from './types';

export type { DatabaseControl, ProcessControl } from './plugin';

export interface NemesisDeps extends FaultContext {
  record(
    event: 'fault-start' | 'fault-stop',
    fault: FaultSpec,
    label: string,
    targets: string[],
    error?: string,
    details?: FaultDetails,
  ): void;
}

const NEED_DEP: Record<FaultNeed, 'server' | 'database' | 'dbProxy' | 'admin'> = {
  childServer: 'server',
  database: 'database',
  dbProxy: 'dbProxy',
  admin: 'admin',
};
const NEED_MESSAGE: Record<FaultNeed, string> = {
  childServer: 'needs the harness to start the server as a child process (not available with --target)',
  database: 'needs an embedded PostgreSQL started by the harness',
  dbProxy: 'needs a proxy between the server and PostgreSQL, started by the harness (not with --target)',
  admin: "needs the reference server's operator routes (/admin/*), started by the harness (not with --target)",
};

export interface ActiveFault {
  id: number;
  spec: FaultSpec;
  label: string;
}

export class Nemesis {
  private seq = 0;
  private readonly active = new Map<number, ActiveFault>();
  constructor(private readonly deps: NemesisDeps) {}

  activeFaults(): string[] {
    return [...this.active.values()].map((a) => a.label);
  }

  async start(spec: FaultSpec): Promise<ActiveFault> {
    validateFault(spec, this.deps.deviceIds());
    const plugin = faultPlugin(spec.kind);
    for (const need of plugin.needs ?? [])
      if (!this.deps[NEED_DEP[need]]) throw new Error(`${spec.kind} ${NEED_MESSAGE[need]}`);
    const fault: ActiveFault = { id: ++this.seq, spec, label: describeFault(spec) };
    const targets = plugin.targets(spec);
    const t0 = performance.now();
    let details: FaultDetails | undefined;
    try {
      details = (await plugin.apply(spec, this.deps)) ?? undefined;
    } catch (e) {
      this.deps.record('fault-start', spec, fault.label, targets, (e as Error).message);
      throw e;
    }
    this.active.set(fault.id, fault);
    // applyMs: the fault took hold somewhere in the last applyMs before this event's time.
    this.deps.record('fault-start', spec, fault.label, targets, undefined, {
      ...details,
      applyMs: Math.round(performance.now() - t0),
    });
    return fault;
  }

  async stop(fault: ActiveFault): Promise<void> {
    if (!this.active.delete(fault.id)) return;
    const plugin = faultPlugin(fault.spec.kind);
    let error: string | undefined;
    try {
      await plugin.heal(fault.spec, this.deps);
    } catch (e) {
      error = (e as Error).message;
    }
    this.deps.record('fault-stop', fault.spec, fault.label, plugin.targets(fault.spec), error);
    if (error) throw new Error(`healing ${fault.label} failed: ${error}`);
  }

  /** Heal everything still active, in reverse order of start. */
  async heal(): Promise<void> {
    const errors: string[] = [];
    for (const f of [...this.active.values()].reverse()) {
      await this.stop(f).catch((e) => errors.push((e as Error).message));
    }
    if (errors.length) throw new Error(errors.join('; '));
  }

  /** Start a fault, keep it for `durationMs` of simulated time, heal it. */
  async inject(spec: FaultSpec, durationMs?: number, signal?: AbortSignal): Promise<void> {
    const f = await this.start(spec);
    if (durationMs === undefined) return;
    await this.deps.clock.sleep(durationMs, signal).catch(() => {});
    await this.stop(f);
  }

  /** Expand a plan into concrete steps: a schedule as is, a random nemesis drawn from the seed. */
  static expand(plan: FaultPlan, rng: Rng, deviceIds: string[], workloadMs: number): ScheduledFault[] {
    if (Array.isArray(plan)) return [...plan].sort((a, b) => a.at - b.at);
    const r = plan.random;
    const devices = r.devices ?? deviceIds;
    const until = r.until ?? workloadMs;
    const out: ScheduledFault[] = [];
    let t = rng.int(r.interval[0], r.interval[1]);
    while (t < until) {
      // The draw order (kind, device, duration, then the kind's own draws) is part of what a seed means.
      const kind = rng.pick(r.kinds);
      const device = rng.pick(devices);
      const duration = rng.int(r.duration[0], r.duration[1]);
      const fault = faultPlugin(kind).random?.(rng, device, devices);
      if (fault) out.push({ at: t, duration, fault });
      t += duration + rng.int(r.interval[0], r.interval[1]);
    }
    return out;
  }

  /** Run a schedule concurrently with the workload; resolves when every step has healed. */
  async runSchedule(steps: ScheduledFault[], signal: AbortSignal): Promise<void> {
    const t0 = this.deps.clock.now();
    // Every step waits for its time on this one signal at once (a long random run: dozens), which is
    // no listener leak; without this Node warns past 10.
    setMaxListeners(steps.length + 16, signal);
    await Promise.all(
      steps.map(async (s) => {
        const wait = s.at - (this.deps.clock.now() - t0);
        if (wait > 0) await this.deps.clock.sleep(wait, signal).catch(() => {});
        if (signal.aborted) return;
        await this.inject(s.fault, s.duration, signal);
      }),
    );
  }
}
