/**
 * The RFC 0006 §2.6 sync triggers as load iterations: what one VU does for each, and the mix they
 * are drawn from. Each iteration's latency is tagged with its trigger
 * (`vu_sync_latency_ms{trigger:check-in}`), so a threshold can judge the critical ones apart.
 */

import { makeEdit, makeRow, type Rng } from '../../devices/vu/payloads';
import type { VirtualUser } from '../../devices/vu/virtual-user';
import type { SyncOutcome, SyncTrigger } from '../../protocol/device';
import type { SchemaVersion, TableName } from '../../protocol/tables';
import { HarnessError } from '../config/errors';

export type LoadTrigger = 'check-in' | 'workout-complete' | 'background-fetch' | 'first-sync';
export const LOAD_TRIGGERS: readonly LoadTrigger[] = ['check-in', 'workout-complete', 'background-fetch', 'first-sync'];

/** Relative weights of the triggers (they need not sum to 1). */
export type TriggerMix = Partial<Record<LoadTrigger, number>>;

/**
 * Default mix. The RFC gives priorities, not frequencies: background fetch (every 15 min on every
 * phone) dominates real traffic; check-ins and finished workouts are the critical, user-visible ones;
 * a first sync (new phone, reinstall) is rare but the heaviest.
 */
export const DEFAULT_MIX: Required<TriggerMix> = {
  'check-in': 30,
  'workout-complete': 15,
  'background-fetch': 50,
  'first-sync': 5,
};

/** RFC 2.6 "Background Fetch | Core tables". */
export const BACKGROUND_TABLES: readonly TableName[] = ['activities', 'daily_metrics', 'scheduled_workouts'];

const SYNC_TRIGGER: Record<LoadTrigger, SyncTrigger> = {
  'check-in': 'checkin_submit',
  'workout-complete': 'workout_complete',
  'background-fetch': 'background_fetch',
  'first-sync': 'app_launch',
};

export function validateMix(mix: TriggerMix): Required<TriggerMix> {
  const out = { ...DEFAULT_MIX, ...mix };
  for (const [k, v] of Object.entries(mix)) {
    if (!LOAD_TRIGGERS.includes(k as LoadTrigger))
      throw new HarnessError(
        'HRN_ERR_CONFIG',
        `load mix: unknown trigger "${k}"; expected ${LOAD_TRIGGERS.join(', ')}`,
        'Fix the load mix.',
      );
    if (typeof v !== 'number' || !(v >= 0))
      throw new HarnessError('HRN_ERR_CONFIG', `load mix: weight of ${k} must be >= 0, got ${v}`, 'Fix the load mix.');
  }
  if (Object.values(out).every((v) => v === 0))
    throw new HarnessError('HRN_ERR_CONFIG', 'load mix: every weight is 0', 'Give at least one trigger a weight.');
  return out;
}

export function pickTrigger(mix: Required<TriggerMix>, u: number): LoadTrigger {
  const total = LOAD_TRIGGERS.reduce((a, t) => a + mix[t], 0);
  let x = u * total;
  for (const t of LOAD_TRIGGERS) {
    x -= mix[t];
    if (x < 0) return t;
  }
  return LOAD_TRIGGERS.findLast((t) => mix[t] > 0)!;
}

/** What a trigger needs from the VU's slot: its device, what it created, a PRNG, the time. */
export interface TriggerSlot {
  vu: VirtualUser;
  r: Rng;
  version: SchemaVersion;
  now(): number;
  /** Ids this device created, per table (edits pick from them). */
  created: Map<TableName, string[]>;
  nextId(table: TableName): string;
  /** A fresh device of the same user, started (token fetched), for a first sync. */
  freshDevice(): Promise<VirtualUser>;
}

/** Run one iteration of `trigger`; the outcome's durationMs is the sync alone (setup excluded). */
export async function runTrigger(s: TriggerSlot, trigger: LoadTrigger): Promise<SyncOutcome> {
  const create = async (table: TableName) => {
    const id = s.nextId(table);
    const { id: _, ...values } = makeRow(table, id, s.r, s.version, s.now());
    await s.vu.write({ op: 'create', table, id, values });
    s.created.get(table)!.push(id);
  };
  switch (trigger) {
    case 'check-in': {
      // Today's check-in: a new daily_metrics row, or an edit of one already there.
      const mine = s.created.get('daily_metrics')!;
      if (mine.length && s.r.next() < 0.5)
        await s.vu.write({
          op: 'update',
          table: 'daily_metrics',
          id: s.r.pick(mine),
          values: makeEdit('daily_metrics', s.r, s.version, s.now()),
        });
      else await create('daily_metrics');
      return s.vu.sync(SYNC_TRIGGER[trigger]);
    }
    case 'workout-complete': {
      await create('activities');
      // Half of the finished workouts get the subjective fields filled in on the phone too.
      if (s.r.next() < 0.5) {
        const mine = s.created.get('activities')!;
        await s.vu.write({
          op: 'update',
          table: 'activities',
          id: mine[mine.length - 1]!,
          values: makeEdit('activities', s.r, s.version, s.now()),
        });
      }
      return s.vu.sync(SYNC_TRIGGER[trigger]);
    }
    case 'background-fetch':
      return s.vu.pullOnly(SYNC_TRIGGER[trigger], BACKGROUND_TABLES);
    case 'first-sync': {
      const fresh = await s.freshDevice();
      try {
        return await fresh.sync(SYNC_TRIGGER[trigger]);
      } finally {
        await fresh.stop();
      }
    }
  }
}
