/**
 * RFC 0006 §2.6 "Sync Triggers" as data: how urgent each trigger is and which tables it pulls (the
 * contract's `tables=` query parameter). Devices schedule and scope their syncs from this one table,
 * and scenarios assert against it, so the RFC's table is stated once.
 */
import type { SyncTrigger } from './device';
import type { TableName } from './tables';

export type SyncPriority = 'critical' | 'high' | 'normal';

export interface TriggerPlan {
  priority: SyncPriority;
  /** 'all' = a full sync (synchronize() over every table); otherwise the subset pulled and pushed. */
  tables: 'all' | readonly TableName[];
}

export const TRIGGER_PLANS: Readonly<Record<SyncTrigger, TriggerPlan>> = {
  // "Full sync on cold start".
  app_launch: { priority: 'high', tables: 'all' },
  workout_complete: { priority: 'critical', tables: ['activities'] },
  checkin_submit: { priority: 'critical', tables: ['daily_metrics'] },
  pull_to_refresh: { priority: 'high', tables: 'all' },
  // "Core tables" — RFC 2.2.5 names them: SyncManager.sync({ tables: [...] }).
  background_fetch: { priority: 'normal', tables: ['activities', 'daily_metrics', 'scheduled_workouts'] },
  // The RFC's row says "Context Pack": what the pack is built from (zones from users, the plan's workouts).
  watch_connect: { priority: 'high', tables: ['users', 'scheduled_workouts'] },
  // Not rows of the RFC table: RFC 2.2.5 calls SyncManager.sync() (all tables) on reconnect; a poke
  // and a scripted call are "sync now" requests like pull-to-refresh.
  reconnect: { priority: 'high', tables: 'all' },
  poke: { priority: 'high', tables: 'all' },
  manual: { priority: 'high', tables: 'all' },
};

const RANK: Record<SyncPriority, number> = { critical: 0, high: 1, normal: 2 };

/** Negative when `a` runs before `b`. */
export function comparePriority(a: SyncTrigger, b: SyncTrigger): number {
  return RANK[TRIGGER_PLANS[a].priority] - RANK[TRIGGER_PLANS[b].priority];
}

/** True when a sync of `done` tables also serves a request for `wanted` tables. */
export function tablesCover(done: TriggerPlan['tables'], wanted: TriggerPlan['tables']): boolean {
  if (done === 'all') return true;
  if (wanted === 'all') return false;
  return wanted.every((t) => done.includes(t));
}
