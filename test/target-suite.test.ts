/**
 * The proof of the @target suite (issue #11): servers written separately from ours, from the
 * contract alone (test/targets/), one clean and one per classic bug. With the right adapter the
 * suite passes every clean one and fails every buggy one with the check named for that bug.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../harness/config/define-config';
import { shutdownDeviceKinds } from '../harness/runner/devices';
import { type LoadedScenario, loadScenarios, selectScenarios } from '../harness/runner/loader';
import { type RunEnvironment, runScenario } from '../harness/runner/run-scenario';
import { type ResolvedToxiproxy, resolveToxiproxy } from '../harness/services/toxiproxy/provider';
import { loadAdapter } from '../harness/target/load';
import { startCamelSecondsServer } from './targets/camel-seconds-server/server';
import { startContractServer } from './targets/contract-server/server';

let tp: ResolvedToxiproxy;
let suite: LoadedScenario[];
beforeAll(async () => {
  tp = await resolveToxiproxy('embedded', { log: () => {}, seed: 2 });
  suite = selectScenarios(await loadScenarios(resolve('scenarios')), ['@target']);
}, 60_000);
afterAll(async () => {
  await shutdownDeviceKinds(new Set(['phone', 'vu']));
  await tp?.stop();
});

/** Runs the whole @target suite against a started server; returns the names of the checks that failed. */
async function failedChecks(url: string, adapter?: string): Promise<string[]> {
  const env: RunEnvironment = {
    config: resolveConfig({}),
    runDir: mkdtempSync(join(tmpdir(), 'target-suite-')),
    toxiproxy: { url: tp.url, client: tp.client, addressing: tp },
    target: url,
    adapter: await loadAdapter(adapter),
    namespace: `t${Date.now().toString(36)}`,
    log: () => {},
  };
  const failed = new Set<string>();
  for (const s of suite) {
    const r = await runScenario(env, s, { seed: 3, attempt: 1, timeScale: 20 });
    expect(r.verdict === 'skipped', `${s.def.name} skipped: ${r.notes?.join('; ')}`).toBe(false);
    for (const c of r.checks) if (!c.passed) failed.add(c.name);
  }
  return [...failed].sort();
}

const BUGS: Array<[bug: string, check: string]> = [
  ['blind-overwrite', 'conflict-detection'],
  ['half-applied-500', 'atomic-push'],
  ['cross-user-leak', 'isolation-probe'],
  ['drop-deletes', 'delete-semantics'],
  ['stale-timestamp', 'change-visibility'],
];

const SERVERS: Array<{ name: string; adapter?: string; start: typeof startContractServer }> = [
  { name: 'an independent contract server', start: startContractServer },
  {
    name: 'a seconds-based camelCase server on other paths with a login',
    adapter: 'test/targets/camel-seconds-server/adapter.ts',
    start: startCamelSecondsServer as typeof startContractServer,
  },
];

for (const srv of SERVERS)
  describe(`@target against ${srv.name}`, () => {
    it('passes the clean variant', async () => {
      const s = await srv.start({ port: 0 });
      try {
        expect(await failedChecks(s.url, srv.adapter)).toEqual([]);
      } finally {
        await s.close();
      }
    }, 300_000);

    for (const [bug, check] of BUGS)
      it(`fails ${bug} with ${check}`, async () => {
        const s = await srv.start({ port: 0, bug: bug as never });
        try {
          expect(await failedChecks(s.url, srv.adapter)).toContain(check);
        } finally {
          await s.close();
        }
      }, 300_000);
  });
