/** The fault vocabulary scenarios use (issue 4). Durations are simulated ms (divided by the time scale). */
export type FaultSpec =
  | { kind: 'offline'; device: string }
  | { kind: 'latency'; device: string; ms: number; jitterMs?: number }
  | { kind: 'bandwidth'; device: string; KBps: number }
  | { kind: 'flaky'; device: string; resetProbability: number }
  | { kind: 'slowClose'; device: string; delayMs: number }
  | { kind: 'timeout'; device: string; ms?: number }
  | { kind: 'limitData'; device: string; bytes: number; direction?: 'upstream' | 'downstream' }
  | { kind: 'network'; device: string; preset: string }
  | { kind: 'partition'; groups: [string[], string[]] }
  /** Kills the server process (SIGKILL) until healed; with `instance`, one of `server.instances` only. */
  | { kind: 'serverCrash'; instance?: number }
  | { kind: 'databaseRestart'; mode?: 'fast' | 'immediate' }
  | { kind: 'clockSkew'; device: string; ms: number }
  | { kind: 'appKill'; device: string };

export type FaultKind = FaultSpec['kind'];

/** One entry of a fault schedule: start `fault` at `at` ms after the workload starts, heal after `duration`. */
export interface ScheduledFault {
  at: number;
  duration?: number;
  fault: FaultSpec;
}

/** A Jepsen-style random nemesis generated from the run's seed. */
export interface RandomNemesis {
  random: {
    kinds: FaultKind[];
    /** Time between fault starts, [min, max] ms. */
    interval: [number, number];
    /** How long each fault lasts, [min, max] ms. */
    duration: [number, number];
    /** Devices eligible (default: all). */
    devices?: string[];
    /** Stop generating faults after this many ms of workload. */
    until?: number;
  };
}

export type FaultPlan = ScheduledFault[] | RandomNemesis;

export function describeFault(f: FaultSpec): string {
  const { kind, ...rest } = f;
  const params = Object.entries(rest)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? JSON.stringify(v) : v}`)
    .join(' ');
  return params ? `${kind}(${params})` : `${kind}()`;
}

export function faultTargets(f: FaultSpec): string[] {
  if ('device' in f) return [f.device];
  if (f.kind === 'partition') return [...f.groups[0], ...f.groups[1]];
  return [];
}
