/**
 * Finds, validates and selects scenarios. A broken scenario file is reported with its path and the
 * field at fault, never as a stack trace.
 */
import { existsSync, readdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { energySpecProblem } from '../../devices/energy/spec';
import { deviceKind, deviceKindNames, isDeviceKind } from '../../devices/registry';
import { isTableName } from '../../protocol/tables';
import { checkerNames } from '../checkers/registry';
import { HarnessError } from '../config/errors';
import { importUserModule } from '../config/load';
import { NETWORK_PRESETS } from '../config/network-presets';
import { faultPlanProblem, faultProblem } from '../faults/registry';
import { ALERT_NAMES } from '../metrics/alerts';
import { thresholdTagProblem } from '../metrics/derived-tags';
import { parseMetricKey, parseThreshold } from '../metrics/thresholds';
import { describeLoadError } from './code-frame';
import type { ScenarioDefinition } from './scenario';

export interface LoadedScenario {
  def: ScenarioDefinition;
  file: string;
}

function bad(file: string, msg: string): never {
  throw new HarnessError('HRN_ERR_SCENARIO', `${file}: ${msg}`);
}

export function validateScenario(def: unknown, file: string): ScenarioDefinition {
  if (!def || typeof def !== 'object')
    bad(file, 'the default export must be defineScenario({ name, devices, workload | random })');
  const d = def as ScenarioDefinition;
  if (typeof d.name !== 'string' || !/^[a-z0-9][a-z0-9-]*$/.test(d.name))
    bad(file, `"name" must be a kebab-case string, got ${JSON.stringify(d.name)}`);
  if (d.tags !== undefined && !(Array.isArray(d.tags) && d.tags.every((t) => typeof t === 'string')))
    bad(file, '"tags" must be an array of strings');
  if (!d.devices || typeof d.devices !== 'object' || Object.keys(d.devices).length === 0)
    bad(file, '"devices" must name at least one device, e.g. { phoneA: { kind: "phone" } }');
  for (const [id, spec] of Object.entries(d.devices)) {
    if (!/^[A-Za-z0-9_-]+$/.test(id)) bad(file, `device id "${id}" may only use letters, digits, - and _`);
    if (!spec || !isDeviceKind(spec.kind))
      bad(file, `devices.${id}.kind must be one of ${deviceKindNames().join(', ')}, got ${JSON.stringify(spec?.kind)}`);
    if (spec.schemaVersion !== undefined && spec.schemaVersion !== 1 && spec.schemaVersion !== 2)
      bad(file, `devices.${id}.schemaVersion must be 1 or 2`);
    if (spec.network !== undefined && !(spec.network in NETWORK_PRESETS))
      bad(
        file,
        `devices.${id}.network must be one of ${Object.keys(NETWORK_PRESETS).join(', ')}, got ${JSON.stringify(spec.network)}`,
      );
    if (spec.pairedWith !== undefined && !(spec.pairedWith in d.devices))
      bad(file, `devices.${id}.pairedWith names unknown device "${spec.pairedWith}"`);
  }
  if (d.workload === undefined && d.random === undefined && d.steps === undefined)
    bad(file, 'give a "workload" function, a "random" workload or recorded "steps"');
  if (d.steps !== undefined && !Array.isArray(d.steps)) bad(file, '"steps" must be an array of recorded steps');
  if (d.workload !== undefined && typeof d.workload !== 'function')
    bad(file, '"workload" must be an async function (ctx) => { ... }');
  if (d.random) {
    if (!Number.isInteger(d.random.opsPerDevice) || d.random.opsPerDevice < 0)
      bad(file, 'random.opsPerDevice must be an integer >= 0');
    for (const t of Object.keys(d.random.tables ?? {}))
      if (!isTableName(t)) bad(file, `random.tables has unknown table "${t}"`);
  }
  if (d.server?.instances !== undefined && !(Number.isInteger(d.server.instances) && d.server.instances >= 1))
    bad(file, `server.instances must be a whole number >= 1, got ${JSON.stringify(d.server.instances)}`);
  if (d.load !== undefined) {
    const pos = (k: string, v: unknown, min = 1) => {
      if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v >= min))
        bad(file, `load.${k} must be a number >= ${min}, got ${JSON.stringify(v)}`);
    };
    if (d.load.users === undefined) bad(file, 'load.users is required (users; each runs load.devicesPerUser devices)');
    pos('users', d.load.users);
    pos('devicesPerUser', d.load.devicesPerUser);
    pos('durationMs', d.load.durationMs);
    pos('arrivalRatePerSec', d.load.arrivalRatePerSec);
    pos('writesPerSync', d.load.writesPerSync, 0);
    pos('thinkTimeMs', d.load.thinkTimeMs, 0);
    for (const [i, st] of (d.load.stages ?? []).entries()) {
      pos(`stages[${i}].durationMs`, st.durationMs);
      pos(`stages[${i}].target`, st.target, 0);
    }
  }
  if (d.timeScale !== undefined && !(typeof d.timeScale === 'number' && d.timeScale > 0))
    bad(file, `"timeScale" must be a number > 0, got ${JSON.stringify(d.timeScale) ?? String(d.timeScale)}`);
  if (d.checks !== undefined && !(Array.isArray(d.checks) && d.checks.every((c) => typeof c === 'string')))
    bad(file, '"checks" must be an array of checker names');
  // A typo in `checks` would otherwise run zero checkers and pass.
  for (const c of d.checks ?? [])
    if (!checkerNames().includes(c)) bad(file, `checks: unknown checker "${c}"; known: ${checkerNames().join(', ')}`);
  const ids = Object.keys(d.devices);
  if (d.faults !== undefined) {
    const problem = faultPlanProblem(d.faults, ids);
    if (problem) bad(file, problem);
  }
  for (const [i, st] of (d.steps ?? []).entries()) {
    if (st?.op !== 'fault') continue;
    const problem = faultProblem(st.fault, ids, `steps[${i}].fault`);
    if (problem) bad(file, problem);
  }
  if (d.expectAlerts !== undefined) {
    const ea = d.expectAlerts as Record<string, unknown>;
    if (typeof ea !== 'object' || ea === null) bad(file, '"expectAlerts" must be { fired?: [...], quiet?: [...] }');
    for (const [k, v] of Object.entries(ea)) {
      if (k !== 'fired' && k !== 'quiet') bad(file, `expectAlerts.${k}: unknown field; use fired or quiet`);
      if (!Array.isArray(v)) bad(file, `expectAlerts.${k} must be an array of alert names`);
      for (const n of v as unknown[])
        if (typeof n !== 'string' || !ALERT_NAMES.includes(n))
          bad(file, `expectAlerts.${k}: unknown alert ${JSON.stringify(n)}; known: ${ALERT_NAMES.join(', ')}`);
    }
  }
  if (d.thresholds !== undefined) {
    for (const [k, v] of Object.entries(d.thresholds)) {
      if (!Array.isArray(v) || !v.every((e) => typeof e === 'string'))
        bad(file, `thresholds["${k}"] must be an array of k6 expressions like ['p(95)<2000']`);
      let key: ReturnType<typeof parseMetricKey>;
      try {
        key = parseMetricKey(k);
        // Each expression too: one bad one would otherwise void every threshold at the end of the run.
        for (const e of v) parseThreshold(k, e, 'scenario');
      } catch (e) {
        bad(file, (e as Error).message);
      }
      const problem = thresholdTagProblem(key.name, key.tags, k);
      if (problem) bad(file, problem);
    }
  }
  return d;
}

export async function loadScenarioFile(file: string): Promise<LoadedScenario> {
  let mod: { default?: unknown };
  try {
    mod = { default: await importUserModule(resolve(file)) };
  } catch (e) {
    // The whole message with a code frame: esbuild's first line alone ("Transform failed with 1
    // error:") says nothing about where.
    bad(file, `could not be loaded: ${describeLoadError(file, (e as Error).message ?? String(e))}`);
  }
  const def = validateScenario(mod.default, file);
  await validateDeviceSpecs(def, file);
  return { def, file };
}

/** Each kind's own checks of its devices' specs (e.g. a watch needs `pairedWith`). */
export async function validateDeviceSpecs(def: ScenarioDefinition, file: string): Promise<void> {
  for (const [id, spec] of Object.entries(def.devices)) {
    const kind = await deviceKind(spec.kind);
    const energy = energySpecProblem(id, spec, kind.radios);
    if (energy) bad(file, energy);
    const problem = kind.validate?.(id, spec, def.devices);
    if (problem) bad(file, problem);
  }
}

/** A scenario file that could not be loaded or validated: its path and the error to show. */
export interface BrokenScenario {
  file: string;
  error: HarnessError;
}

export interface ScenarioLibrary {
  scenarios: LoadedScenario[];
  broken: BrokenScenario[];
}

/**
 * Every scenario of the folder; a file that fails to load is set aside in `broken` so `list` and
 * runs of the other scenarios still work (the CLI reports it, and refuses a run that selects it).
 */
export async function loadScenarioLibrary(dir: string): Promise<ScenarioLibrary> {
  if (!existsSync(dir)) throw new HarnessError('HRN_ERR_NO_SCENARIOS', `scenario folder not found: ${dir}`);
  const files = readdirSync(dir)
    .filter((f) => /\.(ts|mjs|js)$/.test(f) && !f.endsWith('.test.ts') && !f.startsWith('_'))
    .sort();
  const scenarios: LoadedScenario[] = [];
  const broken: BrokenScenario[] = [];
  const names = new Map<string, string>();
  for (const f of files) {
    const file = join(dir, f);
    try {
      const s = await loadScenarioFile(file);
      const prev = names.get(s.def.name);
      if (prev) bad(s.file, `scenario name "${s.def.name}" is also used by ${prev}`);
      names.set(s.def.name, s.file);
      scenarios.push(s);
    } catch (e) {
      if (!(e instanceof HarnessError)) throw e;
      broken.push({ file, error: e });
    }
  }
  return { scenarios, broken };
}

/** Every scenario of the folder; the first broken file is an error (for callers that need them all). */
export async function loadScenarios(dir: string): Promise<LoadedScenario[]> {
  const lib = await loadScenarioLibrary(dir);
  if (lib.broken.length) throw lib.broken[0].error;
  return lib.scenarios;
}

/** The file name without folder and extension: how a broken file is named on the command line. */
export function scenarioFileStem(file: string): string {
  return basename(file).replace(/\.\w+$/, '');
}

/**
 * The broken files a run selects: all of them when no names are given (every scenario), else those
 * whose file stem is one of the names. A run that selects one stops before anything starts.
 */
export function selectedBroken(lib: ScenarioLibrary, patterns: string[]): BrokenScenario[] {
  if (patterns.length === 0) return lib.broken;
  return lib.broken.filter((b) => patterns.includes(scenarioFileStem(b.file)));
}

/** Select by name or `@tag` (or a bare tag) and --grep; an unknown name is a usage error. */
export function selectScenarios(
  all: LoadedScenario[],
  patterns: string[],
  grep?: string,
  grepInvert?: string,
): LoadedScenario[] {
  let sel = all;
  if (patterns.length) {
    sel = all.filter((s) =>
      patterns.some((p) => {
        const tag = p.startsWith('@') ? p.slice(1) : p;
        return s.def.name === p || scenarioFileStem(s.file) === p || (s.def.tags ?? []).includes(tag);
      }),
    );
    const unknown = patterns.filter(
      (p) => !all.some((s) => s.def.name === p || (s.def.tags ?? []).includes(p.replace(/^@/, ''))),
    );
    if (unknown.length) {
      throw new HarnessError(
        'HRN_ERR_NO_SCENARIOS',
        `no scenario or tag named ${unknown.map((u) => `"${u}"`).join(', ')}; known: ${all.map((s) => s.def.name).join(', ')}`,
      );
    }
  }
  const matcher = (flag: string, src: string) => {
    let re: RegExp;
    try {
      re = new RegExp(src);
    } catch (e) {
      throw new HarnessError('HRN_ERR_USAGE', `${flag} is not a valid regular expression: ${(e as Error).message}`);
    }
    return (s: LoadedScenario) =>
      re.test(s.def.name) || re.test(s.def.title ?? '') || (s.def.tags ?? []).some((t) => re.test(t));
  };
  if (grep) sel = sel.filter(matcher('--grep', grep));
  // Playwright's --grep-invert: drop what matches (e.g. every @load and @target scenario).
  if (grepInvert) {
    const drop = matcher('--grep-invert', grepInvert);
    sel = sel.filter((s) => !drop(s));
  }
  return sel;
}

/** Deterministic sharding: scenario i goes to shard (i mod n) after sorting by name. */
export function shard<T extends { def: { name: string } }>(items: T[], spec?: { index: number; total: number }): T[] {
  if (!spec) return items;
  return [...items]
    .sort((a, b) => a.def.name.localeCompare(b.def.name))
    .filter((_, i) => i % spec.total === spec.index - 1);
}

export function parseShard(s: string): { index: number; total: number } {
  const m = /^(\d+)\/(\d+)$/.exec(s);
  const index = m ? Number(m[1]) : Number.NaN;
  const total = m ? Number(m[2]) : Number.NaN;
  if (!m || total < 1 || index < 1 || index > total)
    throw new HarnessError('HRN_ERR_USAGE', `--shard must look like i/n with 1 <= i <= n, got "${s}"`);
  return { index, total };
}
