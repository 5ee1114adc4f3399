/**
 * Change visibility: a write acknowledged after a pull is in the next pull (a pull timestamp ahead of
 * its rows loses it forever); an acknowledged delete reaches the device that had the row; a stale
 * update never resurrects a deleted row; a pull never names an id twice.
 */
import type { PullResponse } from '../../../protocol/records';
import type { ScenarioContext } from '../../runner/scenario';
import type { ProbeAnswer } from '../probe-client';
import { created, deleted, fullView, probeId, said, sampleRow, updated } from './kit';

type Finding = { message: string; historyIndexes?: number[]; table?: string; id?: string };

/** The contract's pull shape: every id at most once per table, and the device's own checks of it. */
function shapeFindings(p: ProbeAnswer<PullResponse>): Finding[] {
  const out: Finding[] = [];
  for (const [t, tc] of Object.entries(p.body?.changes ?? {})) {
    if (!tc) continue;
    const seen = new Set<string>();
    for (const id of [...(tc.created ?? []), ...(tc.updated ?? [])].map((r) => r.id).concat(tc.deleted ?? [])) {
      if (seen.has(id))
        out.push({
          table: t,
          id,
          historyIndexes: [p.index],
          message: `duplicate in pull: ${t}/${id} appears twice in one pull (history #${p.index}); WatermelonDB breaks on it`,
        });
      seen.add(id);
    }
  }
  return out;
}

export async function probeChanges(ctx: ScenarioContext, user = 'prober'): Promise<void> {
  const a = ctx.client(user, 'chg-reader');
  const b = ctx.client(user, 'chg-writer');
  const vis: Finding[] = [];
  const shape: Finding[] = [];
  let lp = (await b.pull(0)).body?.timestamp ?? 0;
  let pa = await a.pull(0);
  shape.push(...shapeFindings(pa));
  // Several rounds: the window in which a write can slip under a pull's timestamp is short.
  for (let round = 0; round < 3; round++) {
    for (const [i, t] of ctx.tables.entries()) {
      const id = probeId(ctx, `vis-${t.slice(0, 4)}`);
      const w = await b.push({ [t]: created([sampleRow(t, id, 60 + i)]) }, lp);
      if (!w.body) {
        vis.push({ table: t, id, historyIndexes: [w.index], message: `a plain create ${said(w)}` });
        continue;
      }
      lp = (await b.pull(lp)).body?.timestamp ?? lp;
      const next = await a.pull(pa.body?.timestamp ?? 0);
      shape.push(...shapeFindings(next));
      const got = [...(next.body?.changes?.[t]?.updated ?? []), ...(next.body?.changes?.[t]?.created ?? [])].some(
        (r) => r.id === id,
      );
      if (next.body && !got)
        vis.push({
          table: t,
          id,
          historyIndexes: [pa.index, w.index, next.index],
          message: `missed change: ${t}/${id}, acknowledged at history #${w.index} after a pull that answered timestamp ${pa.body?.timestamp}, is absent from the next pull from that timestamp (history #${next.index}); the pull's timestamp runs ahead of the rows it covers, so devices never see the write`,
        });
      if (next.body) pa = next;
    }
  }
  ctx.check('change-visibility', 'every acknowledged write reached the next pull of another device', vis);
  ctx.check('pull-shape', 'no pull named an id twice', shape);

  if (ctx.target && !ctx.target.capabilities.deletes)
    return ctx.note('deletes: the adapter says the target does not apply deletes');
  const del: Finding[] = [];
  const t = ctx.tables[0];
  const id = probeId(ctx, 'del');
  await b.push({ [t]: created([sampleRow(t, id, 80)]) }, lp);
  const aSaw = await a.pull(pa.body?.timestamp ?? 0);
  const bPull = await b.pull(0);
  const d = await b.push({ [t]: deleted([id]) }, bPull.body?.timestamp ?? lp);
  const aNext = await a.pull(aSaw.body?.timestamp ?? 0);
  const view = await fullView(b);
  if (!d.body) del.push({ table: t, id, historyIndexes: [d.index], message: `a delete ${said(d)}` });
  else if (view.rows.has(`${t}/${id}`))
    del.push({
      table: t,
      id,
      historyIndexes: [d.index, view.answer.index],
      message: `acknowledged delete not applied: ${t}/${id} was deleted at history #${d.index} (200) but a full pull still returns it`,
    });
  else if (aNext.body && !aNext.body.changes?.[t]?.deleted?.includes(id))
    del.push({
      table: t,
      id,
      historyIndexes: [d.index, aNext.index],
      message: `delete not propagated: a device that had ${t}/${id} pulled after the delete (history #${aNext.index}) without the id in "deleted"; it keeps the row forever`,
    });
  // Deletes win: A's update based on its pull before the delete must not bring the row back.
  const stale = await a.push({ [t]: updated([sampleRow(t, id, 81)]) }, aSaw.body?.timestamp ?? 0);
  const after = await fullView(b);
  if (after.rows.has(`${t}/${id}`))
    del.push({
      table: t,
      id,
      historyIndexes: [stale.index, after.answer.index],
      message: `resurrection: a stale update of ${t}/${id} (history #${stale.index}, lastPulledAt before the delete) brought the deleted row back`,
    });
  ctx.check(
    'delete-semantics',
    'acknowledged deletes were applied, propagated, and never undone by a stale update',
    del,
  );
}
