/**
 * What the gateway saw as checks, so a report tells at once whose problem it is: the harness's
 * own requests breaking the contract (a harness bug), or a target answering in a way its adapter
 * does not describe (fix the adapter). Neither is ever counted against the target.
 */
import type { CheckResult } from '../results/types';
import type { GatewayProblem } from './gateway';

export function gatewayChecks(problems: GatewayProblem[]): CheckResult[] {
  const of = (kind: GatewayProblem['kind']) => problems.filter((p) => p.kind === kind);
  const dev = of('deviation');
  const adp = of('adapter');
  const first = (l: GatewayProblem[]) => `${l[0].method} ${l[0].path}: ${l[0].message}`;
  return [
    {
      name: 'harness-contract',
      passed: dev.length === 0,
      summary: dev.length
        ? `the harness itself sent ${dev.length} request(s) that break sync-contract.md (a harness bug, not the target's; report it): ${first(dev)}`
        : "every request of the harness's devices matched the contract",
      violations: dev.map((p) => ({ message: `${p.method} ${p.path}: ${p.message}` })),
      durationMs: 0,
    },
    {
      name: 'adapter-fit',
      passed: adp.length === 0,
      summary: adp.length
        ? `${adp.length} answer(s) of the target did not fit the adapter (fix the adapter, not the server): ${first(adp)}`
        : 'every answer of the target fitted the adapter',
      violations: adp.map((p) => ({ message: `${p.method} ${p.path}: ${p.message}` })),
      durationMs: 0,
    },
  ];
}
