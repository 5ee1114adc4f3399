/**
 * Recorded workloads: turning a history into steps (for shrink and replay of field bugs) and running
 * steps back with their original timing.
 */

import type { HistoryOp } from '../../protocol/history';
import type { FaultSpec } from '../faults/types';
import type { RecordedStep, ScenarioContext } from './scenario';

/** Device operations and faults of a history, as steps with their start offsets. */
export function stepsFromHistory(history: HistoryOp[]): RecordedStep[] {
  const steps: RecordedStep[] = [];
  const t0 = history.find((o) => o.type === 'invoke')?.time ?? 0;
  const openFaults = new Map<string, { at: number; fault: FaultSpec }>();
  for (const op of history) {
    const at = Math.max(0, Math.round(op.time - t0));
    if (op.type !== 'invoke') continue;
    if (op.f === 'fault-start' && op.fault && !op.error) {
      const { label, ...spec } = (op.fault.params ?? {}) as Record<string, unknown>;
      openFaults.set(String(label), { at, fault: spec as unknown as FaultSpec });
      continue;
    }
    if (op.f === 'fault-stop' && op.fault) {
      const label = String((op.fault.params as Record<string, unknown> | undefined)?.label);
      const start = openFaults.get(label);
      if (start) {
        openFaults.delete(label);
        steps.push({ at: start.at, op: 'fault', fault: start.fault, duration: Math.max(1, at - start.at) });
      }
      continue;
    }
    if (!op.device) continue;
    if (op.f === 'sync') steps.push({ at, device: op.device, op: 'sync', trigger: op.trigger });
    else if (op.f === 'delete') steps.push({ at, device: op.device, op: 'delete', table: op.table!, id: op.id! });
    else if (op.f === 'create' || op.f === 'update')
      steps.push({ at, device: op.device, op: op.f, table: op.table!, id: op.id!, values: op.values ?? {} });
  }
  for (const f of openFaults.values()) steps.push({ at: f.at, op: 'fault', fault: f.fault });
  return steps.sort((a, b) => a.at - b.at);
}

export async function runSteps(ctx: ScenarioContext, steps: RecordedStep[]): Promise<void> {
  const start = ctx.clock.now();
  const waitUntil = async (at: number) => {
    const d = at - (ctx.clock.now() - start);
    if (d > 0) await ctx.sleep(d);
  };
  const lanes = new Map<string, RecordedStep[]>();
  for (const s of steps) {
    const lane = s.op === 'fault' ? `fault-${lanes.size}-${s.at}` : s.device;
    lanes.set(lane, [...(lanes.get(lane) ?? []), s]);
  }
  await Promise.all(
    [...lanes.values()].map(async (lane) => {
      for (const s of lane) {
        await waitUntil(s.at);
        if (s.op === 'fault') await ctx.nemesis.inject(s.fault, s.duration);
        else {
          const d = ctx.device(s.device);
          if (s.op === 'sync') await d.sync(s.trigger ?? 'manual');
          else if (s.op === 'delete') await d.delete(s.table, s.id).catch(() => {});
          else if (s.op === 'create') await d.create(s.table, s.values, s.id).catch(() => {});
          else await d.update(s.table, s.id, s.values).catch(() => {});
        }
      }
    }),
  );
}
