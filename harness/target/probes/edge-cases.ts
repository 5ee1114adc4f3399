/**
 * What real WatermelonDB clients send and a server must survive: first pulls with lastPulledAt
 * absent or null, an update of an id the server never saw (upsert), a push of only deletes, a push
 * naming an unknown table, a string where a number belongs, a re-sent push. A 5xx or a silent drop is
 * a finding with its own name.
 */

import { differingColumns } from '../../oracle/conflicts';
import type { ScenarioContext } from '../../runner/scenario';
import { created, deleted, probeId, said, sampleRow, serverRow, updated } from './kit';

type Finding = { message: string; historyIndexes?: number[] };

export async function probeEdgeCases(ctx: ScenarioContext, user = 'prober'): Promise<void> {
  const c = ctx.client(user, 'edge');
  const other = ctx.client(user, 'edge-other');
  const found: Finding[] = [];
  const survive = (what: string, a: { status: number; index: number; error?: string }) => {
    if (a.status >= 500 || a.status === 0)
      found.push({
        historyIndexes: [a.index],
        message: `server error on ${what}: ${said(a)} (a 2xx or a 4xx that says what is wrong is due)`,
      });
  };
  const q = `schemaVersion=2&deviceId=${encodeURIComponent(c.deviceId)}`;
  survive('a first pull without lastPulledAt', await c.raw('GET', `/sync/pull?${q}`));
  survive('a first pull with lastPulledAt=null', await c.raw('GET', `/sync/pull?lastPulledAt=null&${q}`));
  let lp = (await c.pull(0)).body?.timestamp ?? 0;
  // Each push goes out with the stamp of a pull just made, so no answer is a mere 409 "pull first".
  const fresh = async () => {
    lp = (await c.pull(lp)).body?.timestamp ?? lp;
    return lp;
  };
  const t = ctx.tables[0];

  const unseen = probeId(ctx, 'upsert');
  const up = await c.push({ [t]: updated([sampleRow(t, unseen, 3)]) }, lp);
  survive('an update of an id the server never saw', up);
  if (up.body && !(await serverRow(c, t, unseen)))
    found.push({
      historyIndexes: [up.index],
      message: `dropped upsert: an update of ${t}/${unseen}, an id the server never saw, answered 200 but the row does not exist (it must be inserted)`,
    });

  if (!ctx.target || ctx.target.capabilities.deletes)
    survive(
      'a push of only deletes of unknown ids',
      await c.push({ [t]: deleted([probeId(ctx, 'nope')]) }, await fresh()),
    );

  const unknown = await c.raw('POST', '/sync/push', {
    changes: { no_such_table: created([{ id: 'x' }]) },
    lastPulledAt: await fresh(),
    deviceId: c.deviceId,
  });
  survive('a push naming an unknown table', unknown);
  if (unknown.status >= 200 && unknown.status < 300)
    found.push({
      historyIndexes: [unknown.index],
      message: `accepted a push naming the unknown table "no_such_table" (${unknown.status}); the contract answers 400`,
    });

  // Only a JSON body can carry a wrong type (a query parameter is text whatever it holds).
  const typed = !ctx.target || ctx.target.pushLastPulledAtIn === 'body';
  const coerced = typed
    ? await c.raw('POST', '/sync/push', {
        changes: { [t]: created([sampleRow(t, probeId(ctx, 'str'), 4)]) },
        lastPulledAt: String(await fresh()),
        deviceId: c.deviceId,
      })
    : undefined;
  if (coerced) survive('a push whose lastPulledAt is a string', coerced);
  if (coerced && coerced.status >= 200 && coerced.status < 300)
    found.push({
      historyIndexes: [coerced.index],
      message: `type coercion: a push with lastPulledAt "${lp}" (a string) was accepted; the contract answers 400 for a wrong type`,
    });
  ctx.check('edge-cases', 'the server survived what real clients send, with a 2xx or a clear 4xx', found);

  if (ctx.target && !ctx.target.capabilities.idempotentPush)
    return ctx.note('idempotent-push: the adapter says re-sent pushes are not recognised');
  // A re-sent push (lost answer) must change nothing, even after another device wrote the row since.
  const id = probeId(ctx, 'idem');
  const pushId = probeId(ctx, 'push');
  const sent = await fresh();
  const first = await c.push({ [t]: created([sampleRow(t, id, 5)]) }, sent, { pushId });
  const op = await other.pull(0);
  const later = await other.push({ [t]: updated([sampleRow(t, id, 6)]) }, op.body?.timestamp ?? 0);
  const again = await c.push({ [t]: created([sampleRow(t, id, 5)]) }, sent, { pushId });
  const row = await serverRow(c, t, id);
  const f: Finding[] = [];
  survive('a re-sent push', again);
  if (first.body && later.body && row && differingColumns(row, sampleRow(t, id, 5)).length === 0)
    f.push({
      historyIndexes: [first.index, later.index, again.index],
      message: `re-sent push applied twice: the same push (pushId ${pushId}, history #${again.index}) overwrote the later write of history #${later.index}`,
    });
  ctx.check('idempotent-push', 're-sending a push changed nothing', f);
}
