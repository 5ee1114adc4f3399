/**
 * k6's executors, for the load generator: closed models (constant-vus, ramping-vus: a VU starts its
 * next iteration when the last one ends, so a slow server slows the load) and open models
 * (constant-arrival-rate, ramping-arrival-rate: iterations start on a schedule whatever earlier ones
 * take, so coordinated omission cannot hide latency; a start with no free VU is counted as dropped).
 *
 * The executors only decide WHEN an iteration starts and on WHICH VU; what an iteration does is the
 * caller's. Time comes from a `LoadTimer`, so tests drive the schedule on a virtual clock.
 */
import { HarnessError } from '../config/errors';

/** A ramping stage: move linearly to `target` (VUs, or iterations per time unit) over `durationMs`. */
export interface Stage {
  durationMs: number;
  target: number;
}

export type ExecutorSpec =
  | { executor: 'constant-vus'; vus: number; durationMs: number; thinkTimeMs?: number }
  | { executor: 'ramping-vus'; startVUs?: number; stages: Stage[]; thinkTimeMs?: number }
  | {
      executor: 'constant-arrival-rate';
      /** Iterations started per `timeUnitMs` (default per second). */
      rate: number;
      timeUnitMs?: number;
      durationMs: number;
      /** VUs ready before the start (default maxVUs). */
      preAllocatedVUs?: number;
      /** Most VUs the executor may use; when all are busy a scheduled start is dropped. */
      maxVUs: number;
    }
  | {
      executor: 'ramping-arrival-rate';
      startRate?: number;
      timeUnitMs?: number;
      stages: Stage[];
      preAllocatedVUs?: number;
      maxVUs: number;
    };

export type ExecutorName = ExecutorSpec['executor'];
export const EXECUTORS: readonly ExecutorName[] = [
  'constant-vus',
  'ramping-vus',
  'constant-arrival-rate',
  'ramping-arrival-rate',
];

/** Milliseconds since the executor started, and a wait until such an instant. */
export interface LoadTimer {
  now(): number;
  sleepUntil(t: number): Promise<void>;
}

export function wallTimer(): LoadTimer {
  const t0 = performance.now();
  return {
    now: () => performance.now() - t0,
    sleepUntil: (t) => new Promise((r) => setTimeout(r, Math.max(0, t - (performance.now() - t0)))),
  };
}

export interface ExecutorHooks {
  /** One iteration on VU `vu` (0-based, < maxVUs). Rejections are the caller's to record; they are swallowed here. */
  iterate(vu: number, iteration: number): Promise<void>;
  /** Make VU `vu` ready (token, first state) before its first iteration; called once per VU. */
  initVU?(vu: number): Promise<void>;
  /** A scheduled start that found no free VU (open models only). */
  dropped?(at: number): void;
  /** Wall pause between one VU's iterations in closed models (jittered by the caller if it likes). */
  thinkTime?(vu: number): number;
}

export interface ExecutorResult {
  iterations: number;
  dropped: number;
  /** Most VUs busy at once. */
  maxBusyVUs: number;
  /** VUs initialised (≤ maxVUs). */
  vusInitialised: number;
  durationMs: number;
}

function bad(message: string): HarnessError {
  return new HarnessError('HRN_ERR_CONFIG', message, 'Fix the load executor (see README "Load executors").');
}

/** Validate a spec up front, so a typo fails before setup, not after a thousand tokens. */
export function validateExecutor(spec: ExecutorSpec): ExecutorSpec {
  const pos = (n: unknown, what: string, zeroOk = false) => {
    if (typeof n !== 'number' || !Number.isFinite(n) || n < 0 || (!zeroOk && n === 0))
      throw bad(`${spec.executor}: ${what} must be a ${zeroOk ? 'non-negative' : 'positive'} number, got ${n}`);
  };
  if (!EXECUTORS.includes(spec?.executor))
    throw bad(
      `unknown executor "${(spec as { executor?: string })?.executor}"; expected one of ${EXECUTORS.join(', ')}`,
    );
  const stages = (s: Stage[]) => {
    if (!Array.isArray(s) || s.length === 0) throw bad(`${spec.executor}: stages must be a non-empty array`);
    for (const [i, st] of s.entries()) {
      pos(st.durationMs, `stages[${i}].durationMs`);
      pos(st.target, `stages[${i}].target`, true);
    }
  };
  switch (spec.executor) {
    case 'constant-vus':
      pos(spec.vus, 'vus');
      pos(spec.durationMs, 'durationMs');
      break;
    case 'ramping-vus':
      stages(spec.stages);
      pos(spec.startVUs ?? 0, 'startVUs', true);
      break;
    case 'constant-arrival-rate':
      pos(spec.rate, 'rate');
      pos(spec.durationMs, 'durationMs');
      pos(spec.maxVUs, 'maxVUs');
      break;
    case 'ramping-arrival-rate':
      stages(spec.stages);
      pos(spec.startRate ?? 0, 'startRate', true);
      pos(spec.maxVUs, 'maxVUs');
      break;
  }
  return spec;
}

/** Most VUs a spec can use (what the generator must prepare identities for). */
export function maxVUsOf(spec: ExecutorSpec): number {
  switch (spec.executor) {
    case 'constant-vus':
      return spec.vus;
    case 'ramping-vus':
      return Math.max(spec.startVUs ?? 0, ...spec.stages.map((s) => s.target));
    default:
      return spec.maxVUs;
  }
}

export function totalDurationMs(spec: ExecutorSpec): number {
  return 'stages' in spec ? spec.stages.reduce((a, s) => a + s.durationMs, 0) : spec.durationMs;
}

/** Linear interpolation of a staged value at time t (the value stays at the last target after the end). */
export function stagedValue(start: number, stages: readonly Stage[], t: number): number {
  let from = start;
  let at = 0;
  for (const s of stages) {
    if (t < at + s.durationMs) return from + ((s.target - from) * (t - at)) / s.durationMs;
    at += s.durationMs;
    from = s.target;
  }
  return from;
}

/**
 * Start offsets (ms) of every iteration of an arrival-rate spec: iteration n starts when the integral
 * of the rate reaches n (the first at 0), as k6 schedules them.
 */
export function arrivalSchedule(spec: Extract<ExecutorSpec, { rate: number } | { startRate?: number }>): number[] {
  const unit = spec.timeUnitMs ?? 1000;
  const stages: Stage[] =
    spec.executor === 'constant-arrival-rate'
      ? [{ durationMs: spec.durationMs, target: spec.rate }]
      : (spec as Extract<ExecutorSpec, { executor: 'ramping-arrival-rate' }>).stages;
  let r0 = (spec.executor === 'constant-arrival-rate' ? spec.rate : (spec.startRate ?? 0)) / unit;
  const out: number[] = [];
  let at = 0;
  let done = 0; // iterations due before this stage (fractional)
  for (const s of stages) {
    const r1 = s.target / unit;
    const D = s.durationMs;
    const inStage = ((r0 + r1) / 2) * D;
    // N(t) = r0 t + (r1 - r0) t² / 2D within the stage; solve N(t) = n - done for each due n.
    for (let n = Math.ceil(done - 1e-9); n < done + inStage - 1e-9; n++) {
      const k = n - done;
      const a = (r1 - r0) / (2 * D);
      const t = Math.abs(a) < 1e-15 ? k / r0 : (-r0 + Math.sqrt(Math.max(0, r0 * r0 + 4 * a * k))) / (2 * a);
      out.push(at + t);
    }
    done += inStage;
    at += D;
    r0 = r1;
  }
  return out;
}

/** Run a spec to the end: every started iteration has settled when this resolves. */
export async function runExecutor(
  spec: ExecutorSpec,
  hooks: ExecutorHooks,
  timer: LoadTimer = wallTimer(),
): Promise<ExecutorResult> {
  validateExecutor(spec);
  const t0 = timer.now();
  let iterations = 0;
  let dropped = 0;
  let busy = 0;
  let maxBusy = 0;
  const inits = new Map<number, Promise<void>>();
  const init = (vu: number) => {
    let p = inits.get(vu);
    if (!p) {
      p = hooks.initVU ? hooks.initVU(vu) : Promise.resolve();
      inits.set(vu, p);
    }
    return p;
  };
  const once = async (vu: number) => {
    const n = iterations++;
    busy++;
    if (busy > maxBusy) maxBusy = busy;
    try {
      await hooks.iterate(vu, n);
    } catch {
      /* the caller records failures */
    } finally {
      busy--;
    }
  };
  const end = t0 + totalDurationMs(spec);

  if (spec.executor === 'constant-vus' || spec.executor === 'ramping-vus') {
    const start = spec.executor === 'ramping-vus' ? (spec.startVUs ?? 0) : spec.vus;
    const stages = spec.executor === 'ramping-vus' ? spec.stages : [{ durationMs: spec.durationMs, target: spec.vus }];
    const target = (t: number) =>
      spec.executor === 'constant-vus' ? spec.vus : Math.round(stagedValue(start, stages, t - t0));
    const loops: Promise<void>[] = [];
    const running = new Set<number>();
    // A VU loops while its index is under the current target (k6's graceful ramp-down: the
    // iteration in progress finishes), and leaves; the controller re-starts it if the target rises.
    const loop = async (vu: number) => {
      running.add(vu);
      try {
        await init(vu);
        while (timer.now() < end && vu < target(timer.now())) {
          await once(vu);
          const think = hooks.thinkTime?.(vu) ?? 0;
          if (think > 0) {
            if (timer.now() + think >= end) break;
            await timer.sleepUntil(timer.now() + think);
          }
        }
      } finally {
        running.delete(vu);
      }
    };
    const TICK = 100;
    for (let t = timer.now(); t < end; t = Math.min(end, t + TICK)) {
      const want = target(t);
      for (let vu = 0; vu < want; vu++) if (!running.has(vu)) loops.push(loop(vu));
      if (spec.executor === 'constant-vus') break; // all started; they run to the end on their own
      await timer.sleepUntil(Math.min(end, t + TICK));
    }
    await Promise.all(loops);
  } else {
    const schedule = arrivalSchedule(spec);
    const max = spec.maxVUs;
    const pre = Math.min(max, spec.preAllocatedVUs ?? max);
    await Promise.all(Array.from({ length: pre }, (_, vu) => init(vu)));
    const free: number[] = Array.from({ length: pre }, (_, vu) => pre - 1 - vu); // pop() gives VU 0 first
    let allocated = pre;
    const started: Promise<void>[] = [];
    const base = timer.now();
    for (const offset of schedule) {
      if (timer.now() < base + offset) await timer.sleepUntil(base + offset);
      let vu = free.pop();
      if (vu === undefined && allocated < max) vu = allocated++;
      if (vu === undefined) {
        dropped++;
        hooks.dropped?.(timer.now() - t0);
        continue;
      }
      const v = vu;
      started.push(
        (async () => {
          await init(v);
          await once(v);
          free.push(v);
        })(),
      );
    }
    await Promise.all(started);
  }
  return { iterations, dropped, maxBusyVUs: maxBusy, vusInitialised: inits.size, durationMs: timer.now() - t0 };
}
