import { parseThresholds, type ThresholdSpec } from '../metrics/thresholds';
import { HarnessError } from './errors';
import { NETWORK_PRESETS } from './network-presets';
import type { HarnessConfig, ServiceConfig, ServiceMode, UserConfig } from './types';

export const DEFAULT_CONFIG: HarnessConfig = {
  scenarioDir: 'scenarios',
  outputDir: 'harness-results',
  repeat: 1,
  retries: 0,
  services: { postgres: { mode: 'auto' }, proxy: { mode: 'embedded' }, objectStore: { mode: 'embedded' } },
  server: { start: true },
  thresholds: {},
  reporters: [],
  projects: [],
  use: { timeScale: 1 },
  timeoutMs: 10 * 60_000,
};

/**
 * Like Playwright's: later configs override earlier ones; `use`, `services` and `thresholds` are
 * deep-merged (a project can change one service or one threshold without restating the rest);
 * `projects` and `reporters` are replaced.
 */
export function defineConfig(...configs: UserConfig[]): UserConfig {
  const out: UserConfig = {};
  for (const c of configs) {
    for (const [k, v] of Object.entries(c) as Array<[keyof UserConfig, unknown]>) {
      if ((k === 'use' || k === 'services' || k === 'thresholds') && v && typeof v === 'object') {
        (out as any)[k] = { ...((out as any)[k] ?? {}), ...(v as object) };
      } else {
        (out as any)[k] = v;
      }
    }
  }
  return out;
}

const MODES: ServiceMode[] = ['auto', 'embedded', 'container', 'url'];
const KNOWN_KEYS = new Set([...Object.keys(DEFAULT_CONFIG), 'seed']);

function fail(field: string, expected: string, got: unknown): never {
  const shown =
    // Scalars are shown as written ("got -3", not "got number"); structures by their shape.
    typeof got === 'string'
      ? JSON.stringify(got)
      : typeof got === 'number' || typeof got === 'boolean'
        ? String(got)
        : Array.isArray(got)
          ? 'an array'
          : got === null
            ? 'null'
            : typeof got;
  throw new HarnessError('HRN_ERR_CONFIG', `config field "${field}" must be ${expected}, got ${shown}`);
}

function service(field: string, v: unknown, fallback: ServiceConfig): ServiceConfig {
  if (v === undefined) return fallback;
  if (typeof v === 'string') {
    if (!MODES.includes(v as ServiceMode)) fail(field, `one of ${MODES.join(', ')}`, v);
    return { mode: v as ServiceMode };
  }
  if (!v || typeof v !== 'object') fail(field, `a mode (${MODES.join('|')}) or { mode, url }`, v);
  const o = v as Record<string, unknown>;
  if (!MODES.includes(o.mode as ServiceMode)) fail(`${field}.mode`, `one of ${MODES.join(', ')}`, o.mode);
  if (o.mode === 'url' && typeof o.url !== 'string') fail(`${field}.url`, 'a URL string when mode is "url"', o.url);
  return { mode: o.mode as ServiceMode, url: o.url as string | undefined };
}

/** Validates a user config and fills defaults; every error names the field and the expected shape. */
export function resolveConfig(user: UserConfig): HarnessConfig {
  if (!user || typeof user !== 'object') fail('(root)', 'an object (export default defineConfig({...}))', user);
  for (const k of Object.keys(user)) {
    if (!KNOWN_KEYS.has(k)) {
      throw new HarnessError(
        'HRN_ERR_CONFIG',
        `unknown config field "${k}"; known fields: ${[...KNOWN_KEYS].sort().join(', ')}`,
      );
    }
  }
  const c: HarnessConfig = structuredClone(DEFAULT_CONFIG);
  if (user.scenarioDir !== undefined)
    c.scenarioDir =
      typeof user.scenarioDir === 'string' ? user.scenarioDir : fail('scenarioDir', 'a folder path', user.scenarioDir);
  if (user.outputDir !== undefined)
    c.outputDir =
      typeof user.outputDir === 'string' ? user.outputDir : fail('outputDir', 'a folder path', user.outputDir);
  if (user.seed !== undefined)
    c.seed = Number.isSafeInteger(user.seed) ? user.seed : fail('seed', 'an integer', user.seed);
  for (const k of ['repeat', 'retries', 'timeoutMs'] as const) {
    const v = user[k];
    if (v === undefined) continue;
    if (!Number.isSafeInteger(v) || (v as number) < (k === 'repeat' ? 1 : 0))
      fail(k, k === 'repeat' ? 'an integer >= 1' : 'an integer >= 0', v);
    c[k] = v as number;
  }
  if (user.services !== undefined) {
    if (typeof user.services !== 'object' || user.services === null)
      fail('services', 'an object { postgres, proxy, objectStore }', user.services);
    for (const k of Object.keys(user.services)) {
      if (!(k in c.services))
        throw new HarnessError(
          'HRN_ERR_CONFIG',
          `unknown service "services.${k}"; known: postgres, proxy, objectStore`,
        );
    }
    c.services.postgres = service('services.postgres', user.services.postgres, c.services.postgres);
    c.services.proxy = service('services.proxy', user.services.proxy, c.services.proxy);
    c.services.objectStore = service('services.objectStore', user.services.objectStore, c.services.objectStore);
  }
  if (user.server !== undefined) {
    const s = user.server as Record<string, unknown>;
    if (!s || typeof s !== 'object') fail('server', '{ start: true } or { target: "http://…" }', s);
    if ('target' in s) {
      // `target: { url, adapter }` and `target: "http://…"` (with `adapter` beside it) are the same.
      const t = s.target as unknown;
      const url = t && typeof t === 'object' ? (t as { url?: unknown }).url : t;
      const adapter = t && typeof t === 'object' ? (t as { adapter?: unknown }).adapter : s.adapter;
      if (typeof url !== 'string' || !/^https?:\/\//.test(url))
        fail('server.target', 'an http(s) URL or { url, adapter }', url);
      if (adapter !== undefined && typeof adapter !== 'string' && (typeof adapter !== 'object' || adapter === null))
        fail(
          'server.target.adapter',
          'a built-in adapter name, an adapter file path, or defineAdapter({ … })',
          adapter,
        );
      c.server = { target: url as string, ...(adapter !== undefined ? { adapter: adapter as string } : {}) };
    } else if (s.start === true) {
      c.server = { start: true, broken: Array.isArray(s.broken) ? (s.broken as string[]) : undefined };
    } else fail('server', '{ start: true } or { target: "http://…" }', s);
  }
  if (user.thresholds !== undefined) {
    if (!user.thresholds || typeof user.thresholds !== 'object')
      fail('thresholds', "an object like { sync_latency_ms: ['p(95)<2000'] }", user.thresholds);
    for (const [k, v] of Object.entries(user.thresholds)) {
      if (!Array.isArray(v) || !v.every((e) => typeof e === 'string'))
        fail(`thresholds["${k}"]`, "an array of k6 expressions like ['p(95)<2000']", v);
    }
    // Every expression parsed now: a bad one found only at the end of a run would void all thresholds.
    parseThresholds(user.thresholds as ThresholdSpec, 'config');
    c.thresholds = { ...user.thresholds };
  }
  if (user.reporters !== undefined) {
    if (!Array.isArray(user.reporters))
      fail('reporters', "an array like ['list', ['html', { open: false }]]", user.reporters);
    c.reporters = user.reporters;
  }
  if (user.projects !== undefined) {
    if (!Array.isArray(user.projects)) fail('projects', 'an array of { name, scenarios?, grep?, use? }', user.projects);
    user.projects.forEach((p, i) => {
      if (!p || typeof p.name !== 'string') fail(`projects[${i}].name`, 'a string', p?.name);
    });
    c.projects = user.projects;
  }
  if (user.use !== undefined) {
    c.use = { ...c.use, ...user.use };
  }
  validateUse('use', c.use);
  return c;
}

export function validateUse(field: string, use: Partial<HarnessConfig['use']>) {
  if (use.timeScale !== undefined && !(typeof use.timeScale === 'number' && use.timeScale > 0))
    fail(`${field}.timeScale`, 'a number > 0', use.timeScale);
  if (use.network !== undefined && !(use.network in NETWORK_PRESETS))
    fail(`${field}.network`, `one of ${Object.keys(NETWORK_PRESETS).join(', ')}`, use.network);
  if (use.phoneAdapter !== undefined && use.phoneAdapter !== 'lokijs' && use.phoneAdapter !== 'sqlite')
    fail(`${field}.phoneAdapter`, '"lokijs" or "sqlite"', use.phoneAdapter);
  if (use.devices !== undefined) {
    if (!use.devices || typeof use.devices !== 'object' || Array.isArray(use.devices))
      fail(`${field}.devices`, 'an object of options by device kind', use.devices);
    for (const [kind, o] of Object.entries(use.devices))
      if (o !== undefined && (!o || typeof o !== 'object' || Array.isArray(o)))
        fail(`${field}.devices.${kind}`, 'an object', o);
  }
}
