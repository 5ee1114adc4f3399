/**
 * Cross-user leaks: a bystander user's rows never appear in another user's pull, and a push naming a
 * bystander's id never changes the bystander's row (the contract allows 403 or keeping ids apart; never a 5xx).
 */
import type { ScenarioContext } from '../../runner/scenario';
import { created, fullView, probeId, said, sampleRow, serverRow, updated } from './kit';

const NAME = 'isolation-probe';
const DESC = "no user's pull or push reached another user's rows";

export async function probeIsolation(ctx: ScenarioContext, user = 'prober'): Promise<void> {
  if (ctx.target && !ctx.target.capabilities.multiUser)
    return ctx.note('isolation-probe: the adapter gives every device the same user; nothing to isolate');
  const by = ctx.client('bystander', 'iso-bystander');
  const me = ctx.client(user, 'iso-user');
  const t0 = (await by.pull(0)).body?.timestamp ?? 0;
  const ids = ctx.tables.map((t, i) => ({ t, id: probeId(ctx, `iso-${t.slice(0, 4)}`), i }));
  const push = await by.push(
    Object.fromEntries(ids.map(({ t, id, i }) => [t, created([sampleRow(t, id, 40 + i)])])),
    t0,
  );
  const findings = [];
  if (!push.body) findings.push({ historyIndexes: [push.index], message: `the bystander's push ${said(push)}` });
  const view = await fullView(me);
  for (const { t, id } of ids)
    if (view.rows.has(`${t}/${id}`))
      findings.push({
        table: t,
        id,
        historyIndexes: [push.index, view.answer.index],
        message: `cross-user leak: user ${user}'s pull (history #${view.answer.index}) returned ${t}/${id}, a row of user bystander (pushed at history #${push.index})`,
      });
  const victim = ids[0];
  const before = await serverRow(by, victim.t, victim.id);
  const lp = (await me.pull(0)).body?.timestamp ?? 0;
  const intrude = await me.push({ [victim.t]: updated([{ ...sampleRow(victim.t, victim.id, 99) }]) }, lp);
  if (intrude.status >= 500 || intrude.status === 0)
    findings.push({
      historyIndexes: [intrude.index],
      message: `a push naming another user's id ${said(intrude)} (403, or keeping the ids apart, is due)`,
    });
  const after = await serverRow(by, victim.t, victim.id);
  if (before && JSON.stringify(before) !== JSON.stringify(after))
    findings.push({
      table: victim.t,
      id: victim.id,
      historyIndexes: [intrude.index],
      message: `cross-user write: user ${user}'s push (history #${intrude.index}) changed ${victim.t}/${victim.id} of user bystander`,
    });
  ctx.check(NAME, DESC, findings);
}
