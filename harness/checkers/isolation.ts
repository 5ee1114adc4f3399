/**
 * user-isolation: no row one user wrote ever reaches another user, neither in that user's view of
 * the server (a full pull with their token) nor on their devices. Judged from who wrote each id in
 * the history, not from where the server says the row lives, so a server that leaks rows into every
 * user's pull cannot vouch for itself. Ids both users wrote are not judged (the contract lets a server
 * keep equal ids of different users apart).
 */
import { TABLE_NAMES } from '../../protocol/tables';
import { analyse, usersWhoWrote } from './analysis';
import { plural, Violations } from './collect';
import type { Checker, CheckInput, CheckOptions } from './types';

export function checkUserIsolation(input: CheckInput, opts?: CheckOptions) {
  const started = performance.now();
  const a = analyse(input);
  const v = new Violations(opts);
  const users = new Set([...Object.keys(input.serverState), ...input.devices.map((d) => d.user)]);
  let judged = 0;
  const judge = (user: string, where: string, table: string, id: string, device?: string) => {
    judged++;
    const w = usersWhoWrote(a, table, id);
    if (w.size === 0 || w.has(user)) return;
    const owners = [...w];
    v.add({
      ...(device ? { device } : {}),
      table,
      id,
      message: `cross-user leak: ${table}/${id}, written only by user ${owners.join(', ')}, is in ${where} of user ${user}`,
      historyIndexes: (a.byRecord.get(owners[0], table as never, id) ?? []).slice(-3).map((i) => a.writes[i].index),
    });
  };
  for (const [user, tables] of Object.entries(input.serverState))
    for (const t of TABLE_NAMES)
      for (const r of tables[t] ?? []) judge(user, "the server's answer to a full pull", t, r.id);
  for (const d of input.devices)
    for (const t of TABLE_NAMES) for (const r of d.snapshot[t] ?? []) judge(d.user, `device ${d.id}`, t, r.id, d.id);
  return v.result(
    'user-isolation',
    started,
    users.size > 1
      ? `${plural(judged, 'row')} seen by ${users.size} users: none belonged to another user`
      : `one user only (${plural(judged, 'row')}): nothing to leak across users`,
    (first) => `${plural(v.total, 'row')} of another user reached a user; first: ${first.message}`,
  );
}

export const userIsolation: Checker = {
  name: 'user-isolation',
  description: "no user's rows reach another user's pull or devices (judged by who wrote each id)",
  check: checkUserIsolation,
};
