/**
 * atomic-push: a push that failed applied nothing. For each device, the writes that no non-failed
 * sync can have pushed (every sync of the device that ended after the write failed outright: the
 * server answered an error) are grouped by the failed sync that first carried them. When the server
 * holds some of a group's rows with exactly the written values that no other write anywhere could
 * have supplied, while other rows of the same push are absent with no other write of them at all,
 * the push was half-applied: the violation names both lists of rows.
 *
 * Only half-applied pushes are reported, not failed pushes applied whole: a 502 from a proxy or a
 * dying instance can hide a committed push (the history records `fail` for any HTTP error), but no
 * order of events applies half of an all-or-nothing push. A device that split its push into batches
 * (over 10 MB) sent several pushes, so its failed syncs are skipped.
 */
import type { Value } from '../../protocol/records';
import { halfAppliedMessage, judgePush } from '../oracle/atomic';
import { analyse, ServerIndex, type SyncInfo, same, type WriteInfo } from './analysis';
import { plural, Violations } from './collect';
import type { Checker, CheckInput, CheckOptions } from './types';

/** Stamps the server may rewrite; never evidence on their own. */
const NOT_EVIDENCE = new Set(['updated_at']);

export function checkAtomicPush(input: CheckInput, opts?: CheckOptions) {
  const started = performance.now();
  const a = analyse(input);
  const server = new ServerIndex(input.serverState);
  const v = new Violations(opts);

  // Failed syncs per device, in history order.
  const failed = new Map<number, SyncInfo[]>();
  for (const s of a.syncs) {
    if (s.outcome !== 'fail') continue;
    if (Number(s.completion?.extra?.pushBatches ?? 1) > 1) continue;
    const l = failed.get(s.dev) ?? [];
    failed.set(s.dev, l);
    l.push(s);
  }

  // Values every write of a record carried per column, to tell whether a value can only be W's.
  const writers = (w: WriteInfo, col: string, value: Value): number => {
    let n = 0;
    for (const i of a.byRecord.get(w.user, w.table, w.id) ?? []) {
      const x = a.writes[i];
      if (x !== w && x.values && Object.hasOwn(x.values, col) && same(x.values[col], value)) n++;
    }
    return n;
  };
  const othersPossiblyApplied = (w: WriteInfo): boolean =>
    (a.byRecord.get(w.user, w.table, w.id) ?? []).some((i) => a.writes[i] !== w && a.writes[i].possiblyApplied);

  /** The server holds W's values, and at least one of them (or, for a create, the row) can only be W's. */
  const appliedEvidence = (w: WriteInfo): boolean => {
    const row = server.row(w.user, w.table, w.id);
    if (!row || !w.values) return false;
    const cols = Object.keys(w.values).filter((c) => !NOT_EVIDENCE.has(c));
    if (!cols.every((c) => same(row[c], w.values![c] ?? null))) return false;
    if (w.kind === 'create' && !othersPossiblyApplied(w)) return true;
    return cols.some((c) => w.values![c] !== null && w.values![c] !== undefined && writers(w, c, w.values![c]) === 0);
  };
  /** A create whose row the server lacks, with no other write of the record that could explain it. */
  const missingEvidence = (w: WriteInfo): boolean =>
    w.kind === 'create' &&
    !server.row(w.user, w.table, w.id) &&
    (a.byRecord.get(w.user, w.table, w.id) ?? []).every((i) => a.writes[i] === w);

  // Group never-applied writes by the failed sync that first carried them.
  const groups = new Map<SyncInfo, WriteInfo[]>();
  for (const w of a.writes) {
    if (w.outcome !== 'ok' || w.possiblyApplied || w.lostLocally || w.kind === 'delete') continue;
    const s = failed.get(w.dev)?.find((x) => x.start >= w.end);
    if (!s) continue;
    const g = groups.get(s) ?? [];
    groups.set(s, g);
    g.push(w);
  }

  let judged = 0;
  for (const [s, ws] of groups) {
    judged++;
    const known = ws.filter((w) => appliedEvidence(w) || missingEvidence(w));
    const verdict = judgePush(known, appliedEvidence);
    if (!verdict.half) continue;
    const error = s.completion?.error ? `failed (${s.completion.error.slice(0, 200)})` : 'failed';
    v.add({
      device: s.device,
      table: verdict.applied[0].table,
      id: verdict.applied[0].id,
      historyIndexes: [s.index, s.endIndex, ...known.map((w) => w.index)],
      message: halfAppliedMessage(`the push of sync #${s.endIndex} of ${s.device}`, error, verdict),
    });
  }

  return v.result(
    'atomic-push',
    started,
    `no failed push half-applied (${plural(judged, 'failed push', 'failed pushes')} with unapplied writes judged)`,
    (first) => `${plural(v.total, 'half-applied push', 'half-applied pushes')}; first: ${first.message}`,
  );
}

export const atomicPush: Checker = {
  name: 'atomic-push',
  description: 'a push the server answered with an error applied none of its rows (never half of them)',
  check: checkAtomicPush,
};
