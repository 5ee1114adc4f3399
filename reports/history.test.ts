import { describe, expect, it } from 'vitest';
import { digestHistory, excerpt, historyViewOf, LazyHistory, parseHistory } from './history';
import { generateSampleRun, toJsonl } from './testing/sample-run';

describe('history views', () => {
  const { histories } = generateSampleRun({ scenarios: [{ name: 'h', ops: 6000, devices: 5, conflictRate: 0.05 }] });
  const ops = histories.get('history.jsonl')!;
  const text = toJsonl(ops);

  it('parses JSONL and skips a torn last line', () => {
    expect(parseHistory(`${text}{"index":`)).toEqual(ops);
  });

  it('the lazy view (partial parse) agrees with the fully parsed one', () => {
    const lazy = new LazyHistory(text);
    const full = historyViewOf(ops);
    expect(lazy.digest()).toEqual(full.digest());
    const wanted = [5, 77, 1234, 5999];
    expect(lazy.excerpt(wanted)).toEqual(full.excerpt(wanted));
  });

  it('an excerpt holds the named ops and the other half of each invoke/completion pair', () => {
    const done = ops.find((o) => o.type === 'ok' && o.f === 'sync')!;
    const ex = excerpt(ops, [done.index]);
    expect(ex.map((o) => o.type)).toEqual(['invoke', 'ok']);
    expect(ex.every((o) => o.opId === done.opId && o.process === done.process)).toBe(true);
  });

  it('digest counts conflicts per table and resolution', () => {
    const d = digestHistory(ops);
    const total = Object.values(d.conflictsByTable).reduce(
      (a, r) => a + Object.values(r).reduce((x, y) => x + y, 0),
      0,
    );
    expect(total).toBe(ops.reduce((a, o) => a + (o.type === 'ok' ? (o.conflicts?.length ?? 0) : 0), 0));
    expect(total).toBeGreaterThan(0);
  });
});
