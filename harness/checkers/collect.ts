import type { CheckResult } from '../results/types';
import type { CheckOptions, Violation } from './types';

/** Collects violations up to a cap while counting all of them, so summaries stay exact. */
export class Violations {
  readonly list: Violation[] = [];
  total = 0;
  private readonly max: number;
  constructor(opts?: CheckOptions) {
    this.max = opts?.maxViolations ?? 1000;
  }
  add(v: Violation): void {
    this.total++;
    if (this.list.length < this.max) this.list.push(v);
  }
  result(
    name: string,
    started: number,
    passSummary: string,
    failSummary: (first: Violation) => string,
  ): CheckResult & { violationCount: number } {
    const passed = this.total === 0;
    const violations = [...this.list];
    if (this.total > this.list.length) {
      violations.push({ message: `… and ${this.total - this.list.length} more violations not listed` });
    }
    return {
      name,
      passed,
      summary: passed ? passSummary : failSummary(this.list[0]),
      violations,
      // Exact count even when the list is capped (a compatible extra field of CheckResult).
      violationCount: this.total,
      durationMs: Math.round((performance.now() - started) * 100) / 100,
    };
  }
}

export const plural = (n: number, word: string, many = `${word}s`): string => `${n} ${n === 1 ? word : many}`;
