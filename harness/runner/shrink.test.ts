/**
 * shrink's search and bookkeeping: a history becomes recorded steps (faults included, with their
 * durations), the devices a candidate needs come from its steps and faults, and delta debugging
 * finds the minimal failing subset and the shortest failing fault for a given failure predicate.
 */
import { describe, expect, it } from 'vitest';
import type { HistoryOp } from '../../protocol/history';
import { stepsFromHistory } from './recorded';
import type { RecordedStep } from './scenario';
import { devicesOf, shrinkSteps } from './shrink';

const sync = (at: number, device: string): RecordedStep => ({ at, device, op: 'sync' });

describe('shrink', () => {
  it('turns a history into steps, faults with their durations', () => {
    const ops = [
      {
        index: 0,
        process: 'a',
        opId: 1,
        type: 'invoke',
        f: 'create',
        device: 'a',
        table: 'goals',
        id: 'g',
        values: { title: 't' },
        time: 100,
      },
      { index: 1, process: 'a', opId: 1, type: 'ok', f: 'create', time: 101 },
      {
        index: 2,
        process: 'nemesis',
        opId: 2,
        type: 'invoke',
        f: 'fault-start',
        fault: {
          name: 'partition',
          targets: ['b'],
          params: { kind: 'partition', groups: [['a'], ['b']], label: 'p1' },
        },
        time: 150,
      },
      { index: 3, process: 'b', opId: 3, type: 'invoke', f: 'sync', device: 'b', trigger: 'manual', time: 160 },
      {
        index: 4,
        process: 'nemesis',
        opId: 4,
        type: 'invoke',
        f: 'fault-stop',
        fault: { name: 'partition', targets: ['b'], params: { label: 'p1' } },
        time: 400,
      },
    ] as unknown as HistoryOp[];
    const steps = stepsFromHistory(ops);
    expect(steps).toEqual([
      { at: 0, device: 'a', op: 'create', table: 'goals', id: 'g', values: { title: 't' } },
      { at: 50, op: 'fault', fault: { kind: 'partition', groups: [['a'], ['b']] }, duration: 250 },
      { at: 60, device: 'b', op: 'sync', trigger: 'manual' },
    ]);
    // A partition needs both of its sides, though only one side loses the server.
    expect([...devicesOf([steps[1]])].sort()).toEqual(['a', 'b']);
    expect([...devicesOf([{ at: 0, op: 'fault', fault: { kind: 'serverCrash' } }])]).toEqual([]);
  });

  it('finds the minimal failing steps and the shortest failing fault', async () => {
    const noise = Array.from({ length: 14 }, (_, i) => sync(i * 10, `n${i % 3}`));
    const culprit1 = sync(5, 'a');
    const culprit2 = sync(7, 'b');
    const fault: RecordedStep = { at: 6, op: 'fault', fault: { kind: 'offline', device: 'b' }, duration: 1000 };
    // "Fails" when both culprits run and b is offline for at least 200 ms.
    let runs = 0;
    const fails = async (st: RecordedStep[]) => {
      runs++;
      const f = st.find((s) => s.op === 'fault');
      return st.includes(culprit1) && st.includes(culprit2) && !!f && f.op === 'fault' && (f.duration ?? 0) >= 200;
    };
    const out = await shrinkSteps(
      [...noise.slice(0, 7), culprit1, fault, culprit2, ...noise.slice(7)],
      fails,
      () => runs < 200,
    );
    expect(out.filter((s) => s.op !== 'fault')).toEqual([culprit1, culprit2]);
    expect(out.find((s) => s.op === 'fault')).toMatchObject({ duration: 250 });
    expect(await fails(out)).toBe(true);
  });

  it('stops when the budget is spent', async () => {
    let runs = 0;
    const start = Array.from({ length: 32 }, (_, i) => sync(i, 'a'));
    const out = await shrinkSteps(
      start,
      async () => ++runs > 0,
      () => runs < 3,
    );
    expect(runs).toBe(3);
    expect(out.length).toBeLessThan(32);
  });
});
