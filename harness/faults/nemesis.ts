/**
 * The nemesis (Jepsen): applies and heals faults, on a schedule, at random from the seed, or when a
 * scripted workload asks. Every start and stop goes into the history, so reports draw faults on the
 * timeline and checkers can tell which operations ran under which fault.
 */
import type { Clock } from '../../protocol/clock';
import type { Device } from '../../protocol/device';
import type { Rng } from '../runner/rng';
import type { DeviceNetwork } from './network';
import { describeFault, type FaultPlan, type FaultSpec, faultTargets, type ScheduledFault } from './types';

export interface ProcessControl {
  /** Kills the server, or only instance `instance` of a multi-instance server. */
  crash(instance?: number): Promise<void>;
  restart(instance?: number): Promise<void>;
}
export interface DatabaseControl {
  stop(mode: 'fast' | 'immediate'): Promise<void>;
  start(): Promise<void>;
}

export interface NemesisDeps {
  clock: Clock;
  network(deviceId: string): DeviceNetwork;
  device(deviceId: string): Device;
  deviceIds(): string[];
  server?: ProcessControl;
  database?: DatabaseControl;
  record(event: 'fault-start' | 'fault-stop', fault: FaultSpec, label: string, error?: string): void;
}

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

  private check(f: FaultSpec) {
    for (const d of faultTargets(f)) {
      if (!this.deps.deviceIds().includes(d))
        throw new Error(
          `fault ${describeFault(f)} names unknown device "${d}"; devices: ${this.deps.deviceIds().join(', ')}`,
        );
    }
    if (f.kind === 'serverCrash' && !this.deps.server)
      throw new Error(
        'serverCrash needs the harness to start the server as a child process (not available with --target)',
      );
    if (f.kind === 'databaseRestart' && !this.deps.database)
      throw new Error('databaseRestart needs an embedded PostgreSQL started by the harness');
  }

  async start(spec: FaultSpec): Promise<ActiveFault> {
    this.check(spec);
    const fault: ActiveFault = { id: ++this.seq, spec, label: describeFault(spec) };
    const d = this.deps;
    try {
      switch (spec.kind) {
        case 'offline':
          await d.network(spec.device).offline();
          await d.device(spec.device).setOffline?.(true);
          break;
        case 'latency':
          await d.network(spec.device).latency(spec.ms, spec.jitterMs ?? 0);
          break;
        case 'bandwidth':
          await d.network(spec.device).bandwidth(spec.KBps);
          break;
        case 'flaky':
          await d.network(spec.device).flaky(spec.resetProbability);
          break;
        case 'slowClose':
          await d.network(spec.device).slowClose(spec.delayMs);
          break;
        case 'timeout':
          await d.network(spec.device).timeout(spec.ms ?? 0);
          break;
        case 'limitData':
          await d.network(spec.device).limitData(spec.bytes, spec.direction);
          break;
        case 'network':
          await d.network(spec.device).applyPreset(spec.preset);
          break;
        case 'partition':
          // Hub and spoke: devices never talk to each other, so a partition between two groups means
          // the second group loses the hub while the first keeps it.
          for (const dev of spec.groups[1]) await d.network(dev).offline();
          break;
        case 'serverCrash':
          await d.server!.crash(spec.instance);
          break;
        case 'databaseRestart':
          await d.database!.stop(spec.mode ?? 'fast');
          break;
        case 'clockSkew': {
          const dev = d.device(spec.device);
          if (!dev.setClockOffset) throw new Error(`device ${spec.device} (${dev.kind}) does not support clock skew`);
          dev.setClockOffset(spec.ms);
          break;
        }
        case 'appKill': {
          const dev = d.device(spec.device);
          if (!dev.kill) throw new Error(`device ${spec.device} (${dev.kind}) cannot be killed`);
          await dev.kill();
          break;
        }
      }
    } catch (e) {
      d.record('fault-start', spec, fault.label, (e as Error).message);
      throw e;
    }
    this.active.set(fault.id, fault);
    d.record('fault-start', spec, fault.label);
    return fault;
  }

  async stop(fault: ActiveFault): Promise<void> {
    if (!this.active.delete(fault.id)) return;
    const d = this.deps;
    const spec = fault.spec;
    let error: string | undefined;
    try {
      switch (spec.kind) {
        case 'partition':
          for (const dev of spec.groups[1]) await d.network(dev).heal();
          break;
        case 'offline':
          await d.network(spec.device).heal();
          await d.device(spec.device).setOffline?.(false);
          break;
        case 'serverCrash':
          await d.server!.restart(spec.instance);
          break;
        case 'databaseRestart':
          await d.database!.start();
          break;
        case 'clockSkew':
          d.device(spec.device).setClockOffset?.(0);
          break;
        case 'appKill':
          await d.device(spec.device).restart?.();
          break;
        case 'network':
          break; // a preset is a condition, not a fault: heal() keeps it
        default:
          await d.network(spec.device).heal();
      }
    } catch (e) {
      error = (e as Error).message;
    }
    d.record('fault-stop', spec, fault.label, error);
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
      const kind = rng.pick(r.kinds);
      const device = rng.pick(devices);
      const duration = rng.int(r.duration[0], r.duration[1]);
      const fault = randomFault(kind, device, devices, rng);
      if (fault) out.push({ at: t, duration, fault });
      t += duration + rng.int(r.interval[0], r.interval[1]);
    }
    return out;
  }

  /** Run a schedule concurrently with the workload; resolves when every step has healed. */
  async runSchedule(steps: ScheduledFault[], signal: AbortSignal): Promise<void> {
    const t0 = this.deps.clock.now();
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

function randomFault(kind: FaultSpec['kind'], device: string, devices: string[], rng: Rng): FaultSpec | undefined {
  switch (kind) {
    case 'offline':
      return { kind, device };
    case 'latency':
      return { kind, device, ms: rng.int(50, 1500), jitterMs: rng.int(0, 200) };
    case 'bandwidth':
      return { kind, device, KBps: rng.int(5, 200) };
    case 'flaky':
      return { kind, device, resetProbability: rng.pick([0.1, 0.3, 0.5]) };
    case 'slowClose':
      return { kind, device, delayMs: rng.int(100, 2000) };
    case 'timeout':
      return { kind, device, ms: rng.int(500, 5000) };
    case 'limitData':
      return { kind, device, bytes: rng.int(100, 20_000), direction: rng.pick(['upstream', 'downstream'] as const) };
    case 'clockSkew':
      return { kind, device, ms: rng.pick([-1, 1]) * rng.int(1000, 3_600_000) };
    case 'appKill':
      return { kind, device };
    case 'partition': {
      const shuffled = rng.shuffle(devices);
      const cut = Math.max(1, Math.floor(shuffled.length / 2));
      return { kind, groups: [shuffled.slice(0, cut), shuffled.slice(cut)] };
    }
    case 'serverCrash':
      return { kind };
    case 'databaseRestart':
      return { kind, mode: rng.pick(['fast', 'immediate'] as const) };
    case 'network':
      return undefined;
  }
}
