/**
 * Half-applied pushes: a push touching several tables is all-or-nothing. A valid multi-table push
 * that fails must have applied nothing; one with a bad record in its last table must be refused (4xx)
 * and apply nothing; an acknowledged one must have applied everything.
 */
import type { DatabaseChanges } from '../../../protocol/records';
import { halfAppliedMessage, judgePush, rowNames } from '../../oracle/atomic';
import type { ScenarioContext } from '../../runner/scenario';
import { created, fullView, probeId, said, sampleRow } from './kit';

const NAME = 'atomic-push';
const DESC = 'every multi-table push applied all of its rows or none';

export async function probeAtomicPush(ctx: ScenarioContext, user = 'prober'): Promise<void> {
  const c = ctx.client(user, 'atomic');
  const tables = ctx.tables.slice(0, 3);
  if (tables.length < 2) return ctx.note('atomic-push: the target serves one table; nothing to cut across tables');
  const t0 = (await c.pull(0)).body?.timestamp ?? 0;

  // 1. A valid push across tables.
  const ids = tables.map((t) => ({ t, id: probeId(ctx, `at-${t.slice(0, 4)}`) }));
  const changes: DatabaseChanges = Object.fromEntries(
    ids.map(({ t, id }, i) => [t, created([sampleRow(t, id, i + 2)])]),
  );
  const push = await c.push(changes, t0);
  let view = await fullView(c);
  const verdict = judgePush(
    ids.map(({ t, id }) => ({ table: t, id })),
    (row) => view.rows.has(`${row.table}/${row.id}`),
  );
  if (push.body && verdict.missing.length)
    ctx.check(NAME, DESC, [
      {
        historyIndexes: [push.index, view.answer.index],
        message: `acknowledged push not fully applied: the push (history #${push.index}) answered 200 but ${rowNames(verdict.missing)} are missing`,
      },
    ]);
  else if (!push.body && verdict.half)
    ctx.check(NAME, DESC, [
      {
        historyIndexes: [push.index, view.answer.index],
        message: halfAppliedMessage(`the push (history #${push.index})`, said(push), verdict),
      },
    ]);
  else if (!push.body)
    ctx.check(NAME, DESC, [
      { historyIndexes: [push.index], message: `a valid push across ${tables.join(', ')} ${said(push)}` },
    ]);
  else ctx.check(NAME, DESC);

  // 2. The same shape with a wrong-typed value in the last table's record: refused whole.
  const bad = tables.map((t) => ({ t, id: probeId(ctx, `ab-${t.slice(0, 4)}`) }));
  const body = {
    changes: Object.fromEntries(
      bad.map(({ t, id }, i) => {
        const row = sampleRow(t, id, i + 5);
        if (i === bad.length - 1) row.updated_at = 'not-a-number' as never;
        return [t, created([row])];
      }),
    ),
    lastPulledAt: view.answer.status === 200 ? ((view.answer.body as { timestamp: number }).timestamp ?? t0) : t0,
    deviceId: c.deviceId,
  };
  const r = await c.raw('POST', '/sync/push', body);
  view = await fullView(c);
  const badVerdict = judgePush(
    bad.map(({ t, id }) => ({ table: t, id })),
    (row) => view.rows.has(`${row.table}/${row.id}`),
  );
  const findings = [];
  if (r.status >= 500 || r.status === 0)
    findings.push({
      historyIndexes: [r.index],
      message: `a push with one wrong-typed value ${said(r)} (a 4xx naming the field is due)`,
    });
  if (r.status >= 200 && r.status < 300)
    findings.push({
      historyIndexes: [r.index],
      message: `a push with updated_at "not-a-number" was accepted (${r.status}): wrong types must be refused, never coerced or stored`,
    });
  if (badVerdict.applied.length && r.status >= 300)
    findings.push({
      historyIndexes: [r.index, view.answer.index],
      message: `half-applied push: the push with a bad record ${said(r)}, yet ${rowNames(badVerdict.applied)} were applied`,
    });
  ctx.check(NAME, DESC, findings);
}
