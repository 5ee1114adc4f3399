import { describe, expect, it } from 'vitest';
import { History } from '.';
import { type FaultWindow, faultTagger, faultWindows } from './faulted-syncs';

/** A history whose clock is set by the test: `at(t)` before each record. */
function recorder() {
  let now = 0;
  const h = new History({ now: () => now });
  const at = (t: number) => {
    now = t;
    return h;
  };
  const fault = (
    t: number,
    f: 'fault-start' | 'fault-stop',
    name: string,
    targets: string[],
    extra: { applyMs?: number; label?: string; error?: string } = {},
  ) =>
    at(t).event({
      f,
      process: 'nemesis',
      fault: {
        name,
        targets,
        params: { kind: name, label: extra.label ?? `${name}(${targets.join(',')})`, applyMs: extra.applyMs },
      },
      ...(extra.error ? { error: extra.error } : {}),
    });
  return { h, at, fault };
}

const win = (start: number, end: number, targets: string[] = []): FaultWindow => ({
  name: 'x',
  label: 'x',
  targets,
  start,
  end,
});

describe('faultWindows', () => {
  it('runs from the start event minus applyMs to the stop event, pairing by label', () => {
    const { h, fault } = recorder();
    fault(100, 'fault-start', 'serverCrash', [], { applyMs: 30 });
    fault(150, 'fault-start', 'offline', ['p1']);
    fault(400, 'fault-stop', 'serverCrash', []);
    fault(500, 'fault-stop', 'offline', ['p1']);
    expect(faultWindows(h.ops).map((w) => [w.name, w.targets, w.start, w.end])).toEqual([
      ['serverCrash', [], 70, 400],
      ['offline', ['p1'], 150, 500],
    ]);
  });

  it('ignores a start that failed, keeps a never-healed fault open to the end, pairs repeated labels', () => {
    const { h, fault } = recorder();
    fault(10, 'fault-start', 'latency', ['p1'], { error: 'proxy refused' });
    fault(20, 'fault-stop', 'latency', ['p1']); // the stop of nothing
    fault(30, 'fault-start', 'offline', ['p2']);
    fault(40, 'fault-start', 'offline', ['p2']);
    fault(50, 'fault-stop', 'offline', ['p2']);
    fault(60, 'fault-start', 'network', ['p1']);
    const ws = faultWindows(h.ops);
    expect(ws.map((w) => [w.name, w.start, w.end])).toEqual([
      ['offline', 30, 50],
      ['offline', 40, Number.POSITIVE_INFINITY],
      ['network', 60, Number.POSITIVE_INFINITY],
    ]);
  });
});

describe('faultTagger', () => {
  it('tags a sync active when its interval overlaps a window, touching included', () => {
    const tag = faultTagger([win(100, 200)]);
    expect(tag('p1', 0, 99)).toBe('none'); // entirely before
    expect(tag('p1', 201, 300)).toBe('none'); // started after the heal
    expect(tag('p1', 50, 100)).toBe('active'); // ends as the fault starts
    expect(tag('p1', 200, 300)).toBe('active'); // starts as the heal is recorded
    expect(tag('p1', 120, 150)).toBe('active'); // inside
    expect(tag('p1', 0, 1000)).toBe('active'); // spans the whole fault
    expect(tag('p1', 150, 900)).toBe('active'); // waited the fault out
  });

  it('applies a fault naming devices only to their syncs, one naming none to every device', () => {
    const tag = faultTagger([win(100, 200, ['p2']), win(500, 600)]);
    expect(tag('p1', 120, 150)).toBe('none');
    expect(tag('p2', 120, 150)).toBe('active');
    expect(tag('p1', 550, 560)).toBe('active');
    expect(tag('p3', 590, 700)).toBe('active');
  });

  it('finds the overlap among many merged windows (binary search over disjoint intervals)', () => {
    // Overlapping and nested windows merge; gaps between them stay fault:none.
    const ws = [win(0, 10), win(5, 30), win(12, 14), win(100, 110), win(200, Number.POSITIVE_INFINITY)];
    const tag = faultTagger(ws);
    expect(tag('d', 31, 99)).toBe('none');
    expect(tag('d', 29, 31)).toBe('active');
    expect(tag('d', 111, 199)).toBe('none');
    expect(tag('d', 105, 105)).toBe('active');
    expect(tag('d', 1e9, 1e9 + 1)).toBe('active'); // never healed
    // Against a brute-force overlap on random intervals.
    let seed = 7;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const many = Array.from({ length: 60 }, () => {
      const s = rnd() * 10_000;
      return win(s, s + rnd() * 200, rnd() < 0.5 ? ['a'] : []);
    });
    const t = faultTagger(many);
    for (let i = 0; i < 2000; i++) {
      const s = rnd() * 10_500;
      const e = s + rnd() * 300;
      const dev = rnd() < 0.5 ? 'a' : 'b';
      const brute = many.some((w) => (w.targets.length === 0 || w.targets.includes(dev)) && w.start <= e && w.end >= s);
      expect(t(dev, s, e), `${dev} [${s}, ${e}]`).toBe(brute ? 'active' : 'none');
    }
  });
});
