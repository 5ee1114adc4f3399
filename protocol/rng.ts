import { mulberry32 } from './random';

/**
 * Seeded PRNG (mulberry32): the same seed gives the same workload and fault schedule on every
 * machine. Math.random is never used for anything that shapes a run.
 */
export class Rng {
  readonly next: () => number;
  constructor(readonly seed: number) {
    this.next = mulberry32(seed >>> 0 || 0x9e3779b9);
  }
  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[Math.floor(this.next() * items.length)];
  }
  weighted<T extends string>(weights: Partial<Record<T, number>>): T {
    const entries = Object.entries(weights) as Array<[T, number]>;
    const total = entries.reduce((s, [, w]) => s + w, 0);
    let r = this.next() * total;
    for (const [k, w] of entries) {
      r -= w;
      if (r < 0) return k;
    }
    return entries[entries.length - 1][0];
  }
  shuffle<T>(items: readonly T[]): T[] {
    const a = [...items];
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [a[i], a[j]] = [a[j], a[i]];
    }
    return a;
  }
  /** A child generator, so adding draws in one place does not shift another's sequence. */
  fork(label: string): Rng {
    let h = this.seed ^ 0x85ebca6b;
    for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
    return new Rng(h >>> 0);
  }
  id(prefix: string): string {
    return `${prefix}-${Math.floor(this.next() * 2 ** 32).toString(36)}${Math.floor(this.next() * 2 ** 32).toString(36)}`;
  }
}

export function randomSeed(): number {
  return Math.floor(Math.random() * 2 ** 31);
}
