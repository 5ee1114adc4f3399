import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { HistoryOp } from '../../protocol/history';
import { History, HistoryError, JsonlHistoryWriter, pairOps, pairs, readHistory, streamHistory, writeHistory } from '.';

const tmp = () => mkdtempSync(join(tmpdir(), 'hist-'));

describe('History recorder', () => {
  it('assigns index, opId, process and time, and completes through the handle', () => {
    let t = 0;
    const h = new History({ now: () => (t += 5) });
    const w = h.invoke({ f: 'update', device: 'A', user: 'u1', table: 'goals', id: 'g1', values: { title: 'x' } });
    const s = h.invoke({ f: 'sync', device: 'B', user: 'u1', trigger: 'manual' });
    const c = w.ok();
    s.info({ error: 'timeout' });
    expect(h.ops.map((o) => [o.index, o.opId, o.type, o.process])).toEqual([
      [0, 0, 'invoke', 'A'],
      [1, 1, 'invoke', 'B'],
      [2, 0, 'ok', 'A'],
      [3, 1, 'info', 'B'],
    ]);
    expect(c).toMatchObject({ table: 'goals', id: 'g1', time: 15, latencyMs: 10 });
    expect(c.values).toBeUndefined();
    expect(() => w.fail()).toThrow(HistoryError);
  });

  it('closes open operations as info', () => {
    const h = new History();
    h.invoke({ f: 'sync', device: 'A' });
    h.event({ f: 'fault-start', fault: { name: 'offline', targets: ['A'] } });
    expect(h.closeOpen()).toBe(1);
    expect(h.ops.at(-1)).toMatchObject({ type: 'info', f: 'sync' });
    expect(pairs(h.ops).map((p) => p.outcome)).toEqual(['info', 'ok']);
  });
});

describe('JSONL', () => {
  it('round-trips through the writer and both readers, streaming from the recorder', async () => {
    const file = join(tmp(), 'history.jsonl');
    const writer = new JsonlHistoryWriter(file, { bufferChars: 100 });
    const h = new History({ sink: writer });
    for (let i = 0; i < 50; i++)
      h.invoke({ f: 'create', device: 'A', table: 'goals', id: `g${i}`, values: { title: `t${i}` } }).ok();
    writer.close();
    const back = await readHistory(file);
    expect(back).toEqual(h.ops);
    const streamed: HistoryOp[] = [];
    for await (const op of streamHistory(file)) streamed.push(op);
    expect(streamed).toEqual(h.ops);
    // Early exit from the stream does not hang.
    for await (const op of streamHistory(file)) if (op.index === 3) break;
  });

  it('names the line of corrupt JSON and of a non-op line', async () => {
    const dir = tmp();
    const f1 = join(dir, 'a.jsonl');
    writeHistory(f1, [{ index: 0, opId: 0, process: 'A', type: 'invoke', f: 'sync', time: 0 }]);
    appendFileSync(f1, '\n{"index": 1, broken\n');
    await expect(readHistory(f1)).rejects.toThrow(/line 3: not valid JSON/);
    const f2 = join(dir, 'b.jsonl');
    writeFileSync(f2, '{"index":0,"opId":0,"type":"done","f":"sync","time":1}\n');
    await expect(readHistory(f2)).rejects.toThrow(/line 1: .*"type" must be one of/);
  });

  it('rejects a truncated last line unless allowed', async () => {
    const f = join(tmp(), 'h.jsonl');
    writeHistory(f, [{ index: 0, opId: 0, process: 'A', type: 'invoke', f: 'sync', time: 0 }]);
    appendFileSync(f, '{"index":1,"opId":0,"pro');
    const err = await readHistory(f).catch((e) => e);
    expect(err).toBeInstanceOf(HistoryError);
    expect(err.line).toBe(2);
    expect(err.message).toMatch(/killed while writing/);
    const warnings: string[] = [];
    const ops = await readHistory(f, { allowTruncatedTail: true, onWarning: (w) => warnings.push(w) });
    expect(ops).toHaveLength(1);
    expect(warnings[0]).toMatch(/line 2/);
    expect(readFileSync(f, 'utf8').split('\n')).toHaveLength(2);
  });
});

describe('pairing', () => {
  it('pairs by opId and reports unmatched', () => {
    const ops: HistoryOp[] = [
      { index: 0, opId: 0, process: 'A', type: 'invoke', f: 'sync', time: 0 },
      { index: 1, opId: 1, process: 'B', type: 'invoke', f: 'sync', time: 1 },
      { index: 2, opId: 0, process: 'A', type: 'ok', f: 'sync', time: 2 },
      { index: 3, opId: 7, process: 'C', type: 'ok', f: 'sync', time: 3 },
    ];
    const p = pairOps(ops);
    expect([...p.partner]).toEqual([2, -1, 0, -1]);
    expect(p.unmatchedInvokes).toEqual([1]);
    expect(p.orphanCompletions).toEqual([3]);
  });
});
