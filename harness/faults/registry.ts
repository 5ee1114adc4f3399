/**
 * The fault-kind registry (kinds/index.ts) and what reads it: validation with the field's name,
 * targets, and what a plan needs from the run. The loader validates every fault a scenario declares
 * before anything starts; the nemesis validates faults a workload starts.
 */
import { HarnessError } from '../../protocol/harness-error';
import { FAULT_KINDS } from './kinds/index';
import type { FaultNeed, FaultPlugin } from './plugin';
import type { FaultKind, FaultPlan, FaultSpec } from './types';

const BY_KIND = new Map<string, FaultPlugin<any>>(FAULT_KINDS.map((k) => [k.kind, k]));

export function faultKindNames(): FaultKind[] {
  return [...BY_KIND.keys()] as FaultKind[];
}

export function faultKinds(): readonly FaultPlugin<any>[] {
  return FAULT_KINDS;
}

export function faultPlugin(kind: string): FaultPlugin<any> {
  const p = BY_KIND.get(kind);
  if (!p)
    throw new HarnessError(
      'HRN_ERR_SCENARIO',
      `unknown fault kind ${JSON.stringify(kind)}; known: ${faultKindNames().join(', ')}`,
    );
  return p;
}

/** The problem with one fault spec, naming the field (`where` is its path, e.g. `faults[2].fault`). */
export function faultProblem(spec: unknown, devices: readonly string[], where: string): string | undefined {
  if (!spec || typeof spec !== 'object')
    return `${where} must be a fault object like { kind: 'offline', device: 'phone' }`;
  const { kind, ...rest } = spec as Record<string, unknown>;
  const p = BY_KIND.get(String(kind));
  if (!p) return `${where}.kind must be one of ${faultKindNames().join(', ')}, got ${JSON.stringify(kind)}`;
  for (const k of Object.keys(rest))
    if (!(k in p.fields))
      return `${where}.${k} is not a field of ${p.kind} (fields: ${Object.keys(p.fields).join(', ') || 'none'})`;
  for (const [k, rule] of Object.entries(p.fields)) {
    const problem = rule(rest[k], devices);
    if (problem) return `${where}.${k} ${problem}`;
  }
  return undefined;
}

export function validateFault(spec: unknown, devices: readonly string[], where = 'fault'): FaultSpec {
  const problem = faultProblem(spec, devices, where);
  if (problem) throw new HarnessError('HRN_ERR_SCENARIO', problem);
  return spec as FaultSpec;
}

const pair = (v: unknown) =>
  Array.isArray(v) && v.length === 2 && v.every((n) => typeof n === 'number' && n >= 0) && v[0] <= v[1];

/** The problem with a scenario's `faults` (a schedule or a random nemesis), or undefined. */
export function faultPlanProblem(plan: unknown, devices: readonly string[]): string | undefined {
  if (Array.isArray(plan)) {
    for (const [i, s] of plan.entries()) {
      if (!s || typeof s !== 'object') return `faults[${i}] must be { at, duration?, fault }`;
      const step = s as Record<string, unknown>;
      if (typeof step.at !== 'number' || step.at < 0) return `faults[${i}].at must be a number of ms >= 0`;
      if (step.duration !== undefined && !(typeof step.duration === 'number' && step.duration >= 0))
        return `faults[${i}].duration must be a number of ms >= 0`;
      const p = faultProblem(step.fault, devices, `faults[${i}].fault`);
      if (p) return p;
    }
    return undefined;
  }
  const r = (plan as { random?: Record<string, unknown> } | undefined)?.random;
  if (!r || typeof r !== 'object') return '"faults" must be a schedule [{ at, duration, fault }] or { random: { … } }';
  if (!Array.isArray(r.kinds) || r.kinds.length === 0) return 'faults.random.kinds must list fault kinds';
  for (const k of r.kinds as unknown[]) {
    const p = BY_KIND.get(String(k));
    if (!p)
      return `faults.random.kinds: unknown fault kind ${JSON.stringify(k)}; known: ${faultKindNames().join(', ')}`;
    if (!p.random) return `faults.random.kinds: ${p.kind} cannot be drawn at random (schedule it instead)`;
  }
  if (!pair(r.interval)) return 'faults.random.interval must be [min, max] ms with 0 <= min <= max';
  if (!pair(r.duration)) return 'faults.random.duration must be [min, max] ms with 0 <= min <= max';
  if (r.devices !== undefined) {
    if (!Array.isArray(r.devices) || r.devices.length === 0) return 'faults.random.devices must list device ids';
    for (const d of r.devices) if (!devices.includes(d)) return `faults.random.devices names unknown device "${d}"`;
  }
  if (r.until !== undefined && !(typeof r.until === 'number' && r.until >= 0))
    return 'faults.random.until must be a number of ms >= 0';
  return undefined;
}

/** Devices a fault acts on (one definition, for the history, the timeline, shrink and checkers). */
export function faultTargets(f: FaultSpec): string[] {
  return faultPlugin(f.kind).targets(f);
}

/** Every device a fault names (targets, and e.g. a partition's side that keeps the server). */
export function faultDevices(f: FaultSpec): string[] {
  const p = faultPlugin(f.kind);
  return p.involves ? p.involves(f) : p.targets(f);
}

/** What the faults of a plan (and any extra faults, e.g. recorded steps) need from the run. */
export function faultNeeds(plan: FaultPlan | undefined, extra: readonly FaultSpec[] = []): Set<FaultNeed> {
  const kinds = new Set<string>(extra.map((f) => f.kind));
  if (Array.isArray(plan)) for (const s of plan) kinds.add(s.fault.kind);
  else if (plan) for (const k of plan.random.kinds) kinds.add(k);
  const needs = new Set<FaultNeed>();
  for (const k of kinds) for (const n of BY_KIND.get(k)?.needs ?? []) needs.add(n);
  return needs;
}
