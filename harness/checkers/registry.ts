/**
 * Checkers by name, so scenarios pick them (`checks: ['convergence', 'lost-writes']`) and the runner
 * runs them all by default. Checkers are pure functions of the CheckInput.
 */
import { HarnessError } from '../config/errors';
import type { CheckResult } from '../results/types';
import { atomicPush } from './atomic-push';
import { conflictRules } from './conflict-rules';
import { convergence } from './convergence';
import { userIsolation } from './isolation';
import { lostWrites } from './lost-writes';
import { noDuplicates, noResurrection } from './records';
import { syncLoops } from './sync-loops';
import type { Checker, CheckInput, CheckOptions } from './types';

const registry = new Map<string, Checker>();

export function registerChecker(c: Checker): void {
  registry.set(c.name, c);
}

for (const c of [
  convergence,
  lostWrites,
  conflictRules,
  atomicPush,
  noResurrection,
  noDuplicates,
  userIsolation,
  syncLoops,
])
  registerChecker(c);

export function checkerNames(): string[] {
  return [...registry.keys()];
}

export function getChecker(name: string): Checker {
  const c = registry.get(name);
  if (!c) {
    throw new HarnessError(
      'HRN_ERR_SCENARIO',
      `unknown checker "${name}"; known checkers: ${checkerNames().join(', ')}`,
      'Fix `checks` in the scenario: use one of the known checker names.',
    );
  }
  return c;
}

/**
 * Run the named checkers (all when omitted) on one input. Names are validated before anything runs.
 * A checker that throws is reported as a failed CheckResult, never as a crash of the run.
 */
export function runCheckers(input: CheckInput, names?: readonly string[], opts?: CheckOptions): CheckResult[] {
  const list = (names ?? checkerNames()).map(getChecker);
  return list.map((c) => {
    const started = performance.now();
    try {
      return c.check(input, opts);
    } catch (e) {
      return {
        name: c.name,
        passed: false,
        summary: `checker ${c.name} crashed: ${(e as Error).message}. This is a harness bug; report it with the run's history.jsonl.`,
        violations: [{ message: String((e as Error).stack ?? e) }],
        durationMs: performance.now() - started,
      };
    }
  });
}
