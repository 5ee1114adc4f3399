/**
 * What a scenario's workload sees (`ScenarioContext`), and what it leaves behind for the verdict:
 * assertions, notes, custom metrics and memory samples.
 */
import type { Clock } from '../../protocol/clock';
import type { Rng } from '../../protocol/rng';
import type { TableName } from '../../protocol/tables';
import type { Violation } from '../checkers/types';
import type { Nemesis } from '../faults/nemesis';
import type { ServerAdmin } from '../faults/plugin';
import type { ExportedSeries } from '../metrics/registry';
import type { CheckResult } from '../results/types';
import type { ObjectStoreView } from '../services/object-store/index';
import type { ProbeClient } from '../target/probe-client';
import type { DeviceHandle, RandomWorkload, ScenarioContext } from './scenario';

/** What the workload reports besides the history. */
export class ScenarioRecord {
  readonly notes: string[] = [];
  readonly assertions: Array<{ ok: boolean; message: string }> = [];
  readonly custom: Array<{ name: string; value: number; tags?: Record<string, string> }> = [];
  /** Whole series (ctx.mergeMetrics), merged into the run's metrics before thresholds. */
  readonly series: ExportedSeries[] = [];
  readonly memory = new Map<string, number[]>();
  /** Checks the scenario decided itself (ctx.check), by name. */
  readonly checks = new Map<string, { description: string; violations: Violation[] }>();
  note = (m: string) => {
    this.notes.push(m);
  };
}

export function scenarioContext(o: {
  handles: Record<string, DeviceHandle>;
  nemesis: Nemesis;
  rng: Rng;
  clock: Clock;
  seed: number;
  serverUrl: string;
  /** The run's store as this scenario sees it (scopedObjectStoreView). */
  objectStore?: ObjectStoreView;
  random(w: RandomWorkload): Promise<void>;
  record: ScenarioRecord;
  tables: TableName[];
  target?: ScenarioContext['target'];
  client(user: string, name: string): ProbeClient;
  serverPid?: () => number | undefined;
  postgresPid?: () => number | undefined;
  admin?: ServerAdmin;
}): ScenarioContext {
  const { handles, nemesis: nem, rng, clock, record } = o;
  return {
    objectStore: o.objectStore,
    ...(o.admin ? { admin: o.admin } : {}),
    devices: handles,
    device: (id) => {
      const h = handles[id];
      if (!h) throw new Error(`unknown device "${id}"`);
      return h;
    },
    nemesis: {
      start: async (f) => {
        const a = await nem.start(f);
        return { stop: () => nem.stop(a) };
      },
      inject: (f, ms) => nem.inject(f, ms),
      heal: () => nem.heal(),
      active: () => nem.activeFaults(),
    },
    rng,
    clock,
    seed: o.seed,
    serverUrl: o.serverUrl,
    sleep: (ms) => clock.sleep(ms),
    random: o.random,
    expect: (ok, message) => {
      record.assertions.push({ ok: !!ok, message });
    },
    note: record.note,
    metric: (name, value, tags) => record.custom.push({ name, value, tags }),
    mergeMetrics: (series) => {
      record.series.push(...series);
    },
    ...(o.serverPid ? { serverPid: o.serverPid } : {}),
    ...(o.postgresPid ? { postgresPid: o.postgresPid } : {}),
    id: (prefix = 'rec') => rng.id(prefix),
    tables: o.tables,
    ...(o.target ? { target: o.target } : {}),
    client: o.client,
    check: (name, description, violations = []) => {
      const c = record.checks.get(name) ?? { description, violations: [] };
      c.violations.push(...violations);
      record.checks.set(name, c);
    },
  };
}

/** The scenario's own checks (ctx.check) as results: passed when nothing was found. */
export function scenarioChecks(record: ScenarioRecord): CheckResult[] {
  return [...record.checks].map(([name, c]) => ({
    name,
    passed: c.violations.length === 0,
    summary: c.violations.length
      ? `${c.violations.length} finding${c.violations.length === 1 ? '' : 's'}: ${c.violations[0].message}`
      : c.description,
    violations: c.violations,
    durationMs: 0,
  }));
}
