/** The command that reruns one scenario as it ran: every flag that shaped the run, not only the seed. */
import type { RunResult, ScenarioResult } from '../harness/results/types';

const quote = (v: string) => (/^[\w@%+=:,./-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`);

export function reproduceCommand(
  run: Pick<RunResult, 'options'> | undefined,
  s: Pick<ScenarioResult, 'name' | 'seed'>,
): string {
  const o = run?.options ?? {};
  const parts = ['harness run', quote(s.name), '--seed', String(s.seed)];
  if (o.target) parts.push('--target', quote(o.target));
  if (o.adapter) parts.push('--adapter', quote(o.adapter));
  if (o.timeScale !== undefined) parts.push('--time-scale', String(o.timeScale));
  if (o.network) parts.push('--network', quote(o.network));
  if (o.brokenServer?.length) parts.push('--broken-server', quote(o.brokenServer.join(',')));
  if (o.serverInstances) parts.push('--server-instances', String(o.serverInstances));
  if (o.configFile) parts.push('--config', quote(o.configFile));
  return parts.join(' ');
}
