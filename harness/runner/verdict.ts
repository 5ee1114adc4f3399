/**
 * The verdict of one scenario and its result record. A checker proof (`expect: 'fail'`) passes only
 * when a *check* caught the bug; a missed threshold is not a catch.
 */
import type { ScenarioResult } from '../results/types';
import type { Analysis } from './analysis';
import type { ScenarioDefinition } from './scenario';

export function verdictOf(
  def: ScenarioDefinition,
  analysis: Analysis,
  fatal: { code: string; message: string } | undefined,
  note: (m: string) => void,
): ScenarioResult['verdict'] {
  if (fatal) return 'error';
  const failed = analysis.checks.some((c) => !c.passed) || analysis.thresholds.some((t) => !t.passed);
  if (def.expect !== 'fail') return failed ? 'failed' : 'passed';
  // The end-of-run rule is not a checker: a broken server that loops never quiesces, whichever checker
  // is meant to name the bug.
  const caught = analysis.checks.some(
    (c) => !c.passed && c.name !== 'run' && c.name !== 'scenario-assertions' && c.name !== 'end-of-run',
  );
  note(
    caught
      ? 'this scenario is expected to fail (it proves a checker catches a deliberate bug), and a checker caught it'
      : 'this scenario was expected to fail but no checker caught the bug',
  );
  const by = analysis.checks.filter(
    (c) => !c.passed && c.name !== 'run' && c.name !== 'scenario-assertions' && c.name !== 'end-of-run',
  );
  if (caught) note(`proved: ${by.map((c) => `${c.name} caught the deliberate bug (${c.summary})`).join('; ')}`);
  return caught ? 'passed' : 'failed';
}

/** A scenario whose devices this machine cannot run: nothing started, the reason reported. */
export function skippedResult(o: {
  def: ScenarioDefinition;
  seed: number;
  attempt: number;
  startedAt: Date;
  slug: string;
  reasons: string[];
}): ScenarioResult {
  const reason = o.reasons.join('; ');
  return {
    name: o.def.name,
    title: o.def.title,
    tags: o.def.tags ?? [],
    seed: o.seed,
    verdict: 'skipped',
    attempt: o.attempt,
    startedAt: o.startedAt.toISOString(),
    durationMs: 0,
    devices: [],
    checks: [],
    metrics: [],
    thresholds: [],
    faults: [],
    historyFile: `${o.slug}/history.jsonl`,
    operations: 0,
    skipReason: reason,
    notes: [`skipped: ${reason}`],
  };
}

export function scenarioResult(o: {
  def: ScenarioDefinition;
  seed: number;
  attempt: number;
  startedAt: Date;
  durationMs: number;
  slug: string;
  operations: number;
  analysis: Analysis;
  verdict: ScenarioResult['verdict'];
  fatal?: { code: string; message: string };
  notes: string[];
}): ScenarioResult {
  const { def, analysis: a } = o;
  return {
    name: def.name,
    title: def.title,
    tags: def.tags ?? [],
    seed: o.seed,
    verdict: o.verdict,
    attempt: o.attempt,
    startedAt: o.startedAt.toISOString(),
    durationMs: Math.round(o.durationMs),
    devices: a.devices,
    checks: a.checks,
    metrics: a.metrics,
    thresholds: a.thresholds,
    alerts: a.alerts,
    faults: a.faults,
    historyFile: `${o.slug}/history.jsonl`,
    operations: o.operations,
    ...(o.fatal ? { error: o.fatal } : {}),
    ...(o.notes.length ? { notes: o.notes } : {}),
  };
}
