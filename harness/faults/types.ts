/**
 * The fault vocabulary scenarios use. Each kind is one module under `kinds/` that adds its spec to
 * `FaultSpecs` by declaration merging, so the union below grows with the folder. Durations are
 * simulated ms (divided by the time scale).
 */

/** Fault kind → its fields (besides `kind`). Filled in by `kinds/<kind>.ts`. */
// biome-ignore lint/suspicious/noEmptyInterface: filled by declaration merging in kinds/*.ts
export interface FaultSpecs {}

export type FaultKind = keyof FaultSpecs & string;

export type FaultOf<K extends FaultKind> = { kind: K } & FaultSpecs[K];

export type FaultSpec = { [K in FaultKind]: FaultOf<K> }[FaultKind];

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
