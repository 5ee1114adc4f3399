/**
 * What a scenario's workload sees (`ScenarioContext`), and what it leaves behind for the verdict:
 * assertions, notes, custom metrics and memory samples.
 */
import type { Clock } from '../../protocol/clock';
import type { Rng } from '../../protocol/rng';
import type { Nemesis } from '../faults/nemesis';
import type { ObjectStoreView } from '../services/object-store/index';
import type { DeviceHandle, RandomWorkload, ScenarioContext } from './scenario';

/** What the workload reports besides the history. */
export class ScenarioRecord {
  readonly notes: string[] = [];
  readonly assertions: Array<{ ok: boolean; message: string }> = [];
  readonly custom: Array<{ name: string; value: number; tags?: Record<string, string> }> = [];
  readonly memory = new Map<string, number[]>();
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
}): ScenarioContext {
  const { handles, nemesis: nem, rng, clock, record } = o;
  return {
    objectStore: o.objectStore,
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
    id: (prefix = 'rec') => rng.id(prefix),
  };
}
