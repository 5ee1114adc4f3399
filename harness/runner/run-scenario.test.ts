/**
 * runScenario end to end on the real stack (PostgreSQL: SYNC_TEST_DATABASE_URL or embedded; the
 * embedded proxy; real devices): faults reach the history with their targets, the server's sync_log
 * reaches the checkers, a checker proof's verdict, and clock skew on a web device reaches LWW.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../config/define-config';
import { createDatabase, type ResolvedPostgres, resolvePostgres } from '../services/postgres/index';
import { type ResolvedToxiproxy, resolveToxiproxy } from '../services/toxiproxy/provider';
import { shutdownDeviceKinds } from './devices';
import { validateScenario } from './loader';
import { type RunEnvironment, runScenario } from './run-scenario';
import { defineScenario, type ScenarioDefinition } from './scenario';

let pg: ResolvedPostgres;
let tp: ResolvedToxiproxy;
let env: RunEnvironment;

beforeAll(async () => {
  const url = process.env.SYNC_TEST_DATABASE_URL;
  pg = await resolvePostgres({ mode: url ? 'url' : 'embedded', url, log: () => {} });
  tp = await resolveToxiproxy('embedded', { log: () => {}, seed: 3 });
  env = {
    config: resolveConfig({}),
    runDir: mkdtempSync(join(tmpdir(), 'run-scenario-')),
    postgres: { adminUrl: pg.url, createDatabase: async (n) => (await createDatabase(pg.url, n)).url },
    toxiproxy: { url: tp.url, client: tp.client, addressing: tp },
    log: () => {},
  };
}, 120_000);
afterAll(async () => {
  await shutdownDeviceKinds(new Set(['web', 'phone', 'vu']));
  await tp?.stop();
  await pg?.stop();
});

const run = (def: ScenarioDefinition, seed = 11) =>
  runScenario(env, { def: validateScenario(def, 'inline.ts'), file: 'inline.ts' }, { seed, attempt: 1, timeScale: 1 });

describe('runScenario', () => {
  it("the server's sync_log reaches the checkers; faults are recorded with their targets", async () => {
    const r = await run(
      defineScenario({
        name: 'rs-conflict',
        devices: { a: { kind: 'vu' }, b: { kind: 'vu' } },
        async workload({ devices: { a, b }, nemesis }) {
          await a.create('goals', { title: 'x', status: 'a' }, 'g1');
          await a.sync();
          await b.sync();
          const off = await nemesis.start({ kind: 'offline', device: 'b' });
          await a.update('goals', 'g1', { status: 'a2' });
          await a.sync();
          await off.stop();
          await b.update('goals', 'g1', { status: 'b2' });
          await b.sync();
        },
      }),
    );
    expect(r.verdict).toBe('passed');
    const cr = r.checks.find((c) => c.name === 'conflict-rules')!;
    // The summary names sync_log only when the runner passed the server's log to the checker.
    expect(cr.summary).toMatch(/and logged in sync_log$/);
    const history = readFileSync(join(env.runDir, r.historyFile), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const faults = history.filter((o) => o.f === 'fault-start' && o.type === 'invoke');
    expect(faults.map((o) => [o.fault.name, o.fault.targets])).toEqual([['offline', ['b']]]);
    expect(r.faults.length).toBe(1);
  }, 120_000);

  it('a scenario error is a verdict, not a crash', async () => {
    const r = await run(
      defineScenario({
        name: 'rs-error',
        devices: { a: { kind: 'vu' } },
        async workload() {
          throw new Error('the workload broke');
        },
      }),
    );
    expect(r.verdict).toBe('error');
    expect(r.error?.message).toBe('the workload broke');
  }, 120_000);

  it('clock skew on a web device reaches the updated_at LWW compares', async () => {
    const r = await run(
      defineScenario({
        name: 'rs-web-skew',
        devices: { web: { kind: 'web' }, phone: { kind: 'phone' } },
        async workload({ devices: { web, phone }, nemesis, expect }) {
          await web.create('goals', { title: 'g', status: 'start' }, 'skew-goal');
          await web.sync();
          await phone.sync();
          await nemesis.start({ kind: 'clockSkew', device: 'web', ms: 3_600_000 });
          await web.update('goals', 'skew-goal', { status: 'web-edit' }); // earlier in real time, +1 h
          await phone.update('goals', 'skew-goal', { status: 'phone-edit' }); // later in real time
          await phone.sync();
          await web.sync();
          await phone.sync();
          const winner = (await phone.snapshot()).goals.find((g) => g.id === 'skew-goal');
          expect(winner?.status === 'web-edit', `the web device's skewed-fast clock wins LWW (${winner?.status})`);
          expect(
            (winner?.updated_at as number) > Date.now() + 3_000_000,
            `the winning updated_at carries the skew (${winner?.updated_at})`,
          );
        },
      }),
    );
    const assertions = r.checks.find((c) => c.name === 'scenario-assertions');
    expect(assertions?.violations ?? []).toEqual([]);
    expect(r.verdict).toBe('passed');
  }, 180_000);
});
