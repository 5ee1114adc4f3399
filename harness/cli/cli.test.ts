/**
 * The CLI as users and CI meet it: exit codes, error messages for bad input, and real runs against
 * the embedded stack (including the checker proofs against deliberately broken servers).
 */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CliRun, ROOT, runHarness } from '../../test/run-cli';

function harness(args: string[], cwd = ROOT, timeout = 240_000): Promise<CliRun> {
  return runHarness(args, { cwd, timeoutMs: timeout });
}

describe('harness CLI: bad input gets a clear error and exit code 2', () => {
  it('unknown flag', async () => {
    const r = await harness(['run', '--frobnicate']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown option '--frobnicate'/);
  });
  it('a misspelled broken-server mode, before anything runs', async () => {
    const r = await harness(['run', 'smoke', '--broken-server', 'skip-stale-chek']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown mode "skip-stale-chek"; modes: skip-stale-check/);
    expect(r.err).not.toMatch(/postgres:/); // rejected before services start
  });
  it('--adapter without --target, and an adapter that does not exist', async () => {
    expect((await harness(['run', 'smoke', '--adapter', 'watermelondb-docs'])).err).toMatch(/--adapter needs --target/);
    const r = await harness(['run', 'smoke', '--target', 'http://127.0.0.1:9', '--adapter', 'nope.ts']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/neither a built-in adapter \(contract, watermelondb-docs\) nor a file/);
  });
  it('unknown command', async () => {
    const r = await harness(['fly']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown command 'fly'/);
  });
  it('unknown scenario names the known ones', async () => {
    const r = await harness(['run', 'no-such-scenario']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/HRN_ERR_NO_SCENARIOS: no scenario or tag named "no-such-scenario"; known: .*smoke/);
  });
  it('bad option values', async () => {
    expect((await harness(['run', 'smoke', '--shard', '3/2'])).err).toMatch(/--shard must look like i\/n/);
    expect((await harness(['run', 'smoke', '--time-scale', '0'])).code).toBe(2);
    expect((await harness(['run', 'smoke', '--network', 'carrier-pigeon'])).err).toMatch(
      /Allowed choices are wifi, lte/,
    );
  });
  it('a broken config names the field and the expected shape', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hcfg-'));
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
    const cfg = join(dir, 'bad.config.ts');
    writeFileSync(cfg, `export default { use: { timeScale: 'fast' }, services: { postgres: 'mongo' } };\n`);
    const r = await harness(['list', '--config', cfg]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /HRN_ERR_CONFIG: config field "services.postgres" must be one of auto, embedded, container, url, got "mongo"/,
    );
    writeFileSync(cfg, `export default { colour: 'blue' };\n`);
    expect((await harness(['list', '--config', cfg])).err).toMatch(/unknown config field "colour"/);
  });
  it('a broken scenario file names the file and the field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hscn-'));
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
    mkdirSync(join(dir, 'scenarios'));
    writeFileSync(
      join(dir, 'scenarios', 'oops.ts'),
      `export default { name: 'oops', devices: { a: { kind: 'toaster' } }, random: { opsPerDevice: 1 } };\n`,
    );
    writeFileSync(
      join(dir, 'harness.config.ts'),
      `export default { scenarioDir: ${JSON.stringify(join(dir, 'scenarios'))} };\n`,
    );
    const r = await harness(['list', '--config', join(dir, 'harness.config.ts')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/oops\.ts: devices\.a\.kind must be one of .*phone, .*web, got "toaster"/);
  });
  it('a scenario with a syntax error: message and code frame; the other scenarios still list and run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hsyn-'));
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
    mkdirSync(join(dir, 'scenarios'));
    writeFileSync(
      join(dir, 'scenarios', 'good.ts'),
      `export default { name: 'good', devices: { a: { kind: 'phone' } }, random: { opsPerDevice: 1 } };\n`,
    );
    writeFileSync(
      join(dir, 'scenarios', 'oops.ts'),
      `export default {\n  name: 'oops',\n  devices: { a: { kind: 'phone' } ,\n  random: { opsPerDevice: 1 } };\n`,
    );
    const cfg = join(dir, 'harness.config.ts');
    writeFileSync(cfg, `export default { scenarioDir: ${JSON.stringify(join(dir, 'scenarios'))} };\n`);
    const frame =
      /oops\.ts: could not be loaded: Expected "}" but found ";"\n {2}at .*oops\.ts:4:31\n.*\n.*\n> 4 \| {3}random: \{ opsPerDevice: 1 \} \};\n {4}\| {32}\^/;
    const list = await harness(['list', '--config', cfg]);
    expect(list.code).toBe(2);
    expect(list.out).toMatch(/^good\s+a:phone$/m);
    expect(list.out).toMatch(/1 scenarios, 1 could not be loaded/);
    expect(list.err).toMatch(frame);
    // Running it stops before anything starts; running another one is not stopped by it (it gets as
    // far as the next mistake on its own command line).
    const own = await harness(['run', 'oops', '--config', cfg]);
    expect(own.code).toBe(2);
    expect(own.err).toMatch(frame);
    const other = await harness(['run', 'good', '--config', cfg, '--broken-server', 'nope']);
    expect(other.code).toBe(2);
    expect(other.err).toMatch(/warning HRN_ERR_SCENARIO: .*oops\.ts: could not be loaded/);
    expect(other.err).toMatch(/--broken-server: unknown mode "nope"/);
  });
  it('a --config outside the project tree loads (no package.json there)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hout-'));
    writeFileSync(join(dir, 'empty.config.ts'), 'export default {};\n');
    writeFileSync(
      join(dir, 'full.config.ts'),
      `import { defineConfig } from ${JSON.stringify(join(ROOT, 'harness', 'index'))};\nexport default defineConfig({ use: { timeScale: 2 } });\n`,
    );
    for (const f of ['empty.config.ts', 'full.config.ts']) {
      const r = await harness(['list', '--config', join(dir, f)]);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toMatch(/^smoke\s/m);
    }
  });
  it('an invalid threshold expression is a config error naming it and the grammar (scenario and config)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hthr-'));
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
    mkdirSync(join(dir, 'scenarios'));
    writeFileSync(
      join(dir, 'scenarios', 'thr.ts'),
      `export default { name: 'thr', devices: { a: { kind: 'phone' } }, random: { opsPerDevice: 1 }, thresholds: { lost_writes: ['count=>0'] } };\n`,
    );
    const cfg = join(dir, 'harness.config.ts');
    writeFileSync(cfg, `export default { scenarioDir: ${JSON.stringify(join(dir, 'scenarios'))} };\n`);
    const r = await harness(['run', 'thr', '--config', cfg]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /thr\.ts: threshold on lost_writes: "count=>0" is not a valid expression; expected <aggregation> <operator> <number>, e\.g\. p\(95\)<2000; .*operators: < <= > >= == !=/,
    );
    writeFileSync(
      join(dir, 'scenarios', 'thr.ts'),
      `export default { name: 'thr', devices: { a: { kind: 'phone' } }, random: { opsPerDevice: 1 }, timeScale: -3 };\n`,
    );
    expect((await harness(['run', 'thr', '--config', cfg])).err).toMatch(/"timeScale" must be a number > 0, got -3/);
    writeFileSync(cfg, `export default { thresholds: { lost_writes: ['count=>0'] }, use: { timeScale: -3 } };\n`);
    const c = await harness(['list', '--config', cfg]);
    expect(c.code).toBe(2);
    expect(c.err).toMatch(
      /HRN_ERR_CONFIG: .*"timeScale" must be a number > 0, got -3|"count=>0" is not a valid expression/,
    );
    writeFileSync(cfg, `export default { thresholds: { lost_writes: ['count=>0'] } };\n`);
    expect((await harness(['list', '--config', cfg])).err).toMatch(
      /HRN_ERR_CONFIG: threshold on lost_writes: "count=>0" is not a valid expression; expected <aggregation>/,
    );
  });
  it('a run that fails before it starts leaves no run folder behind `latest`', async () => {
    const out = mkdtempSync(join(tmpdir(), 'hnor-'));
    const r = await harness(['run', 'smoke', '--reporter', 'fancy', '--output', out]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/fancy/);
    expect(readdirSync(out)).toEqual([]);
  });
  it('run --help examples name scenarios that exist', async () => {
    const help = (await harness(['run', '--help'])).out;
    const list = (await harness(['list'])).out;
    // Scenario names of each example: tokens after `run` that are neither flags nor flag values.
    const names: string[] = [];
    for (const line of help.split('\n').filter((l) => /^\s+harness run /.test(l))) {
      const tokens = line
        .trim()
        .split(/\s{2,}/)[0]
        .split(/\s+/)
        .slice(2);
      for (let i = 0; i < tokens.length; i++) {
        if (tokens[i].startsWith('-')) {
          if (tokens[i + 1] && !tokens[i + 1].startsWith('-')) i++;
        } else if (!tokens[i].startsWith('@')) names.push(tokens[i]);
      }
    }
    expect(names.length).toBeGreaterThan(0);
    for (const n of names) expect(list, `run --help names "${n}"`).toMatch(new RegExp(`^${n}\\s`, 'm'));
  });
  it('list shows scenarios with tags and devices', async () => {
    const r = await harness(['list']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/smoke\s+@core @smoke\s+phoneA:phone phoneB:phone/);
  });
});

describe('harness run against the embedded stack', () => {
  it('smoke passes, exit 0, writes results.json and history.jsonl', async () => {
    const out = mkdtempSync(join(tmpdir(), 'hrun-'));
    chmodSync(out, 0o755); // embedded PostgreSQL runs as the postgres user and must reach its data folder
    const r = await harness(['run', 'smoke', '--seed', '7', '--reporter', 'line,json', '--output', out]);
    expect(r.code, r.err + r.out).toBe(0);
    const res = JSON.parse(readFileSync(join(out, 'latest', 'results.json'), 'utf8'));
    expect(res.verdict).toBe('passed');
    expect(res.seed).toBe(7);
    const s = res.scenarios[0];
    expect(s.checks.map((c: { name: string }) => c.name)).toEqual(
      expect.arrayContaining(['convergence', 'lost-writes', 'conflict-rules']),
    );
    expect(s.checks.every((c: { passed: boolean }) => c.passed)).toBe(true);
    const lines = readFileSync(join(out, 'latest', s.historyFile), 'utf8')
      .trim()
      .split('\n');
    expect(lines.length).toBe(s.operations);
  });

  it('an unknown table in a workload names the table and the valid ones (exit 2)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'htbl-'));
    chmodSync(dir, 0o755); // embedded PostgreSQL runs as the postgres user and must reach its data folder
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
    mkdirSync(join(dir, 'scenarios'));
    writeFileSync(
      join(dir, 'scenarios', 'tbl.ts'),
      `export default { name: 'tbl', devices: { a: { kind: 'phone' } }, workload: async ({ devices }) => { await devices.a.create('goalz', { title: 'x' }); } };\n`,
    );
    const cfg = join(dir, 'harness.config.ts');
    writeFileSync(cfg, `export default { scenarioDir: ${JSON.stringify(join(dir, 'scenarios'))} };\n`);
    const r = await harness(['run', 'tbl', '--config', cfg, '--output', join(dir, 'out'), '--reporter', 'line']);
    expect(r.code, r.err + r.out).toBe(2);
    expect(r.out + r.err).toMatch(
      /create on device "a": unknown table "goalz"; tables: users, activities, training_plans, scheduled_workouts, daily_metrics, goals/,
    );
    expect(r.out + r.err).not.toMatch(/Cannot read properties/);
  });

  it('the lost-writes checker catches a server that skips the stale-write check (exit 1, precise report)', async () => {
    const out = mkdtempSync(join(tmpdir(), 'hrun-'));
    chmodSync(out, 0o755); // embedded PostgreSQL runs as the postgres user and must reach its data folder
    const r = await harness([
      'run',
      'stale-push-race',
      '--broken-server',
      'skip-stale-check',
      '--seed',
      '3',
      '--reporter',
      'line,json',
      '--output',
      out,
    ]);
    expect(r.code, r.err + r.out).toBe(1);
    const res = JSON.parse(readFileSync(join(out, 'latest', 'results.json'), 'utf8'));
    const lost = res.scenarios[0].checks.find((c: { name: string }) => c.name === 'lost-writes');
    expect(lost.passed).toBe(false);
    expect(lost.violations[0].message).toMatch(
      /lost write: update of (goals\/goal-race|training_plans\/tp-race) by device phoneA/,
    );
    expect(lost.violations[0].historyIndexes.length).toBeGreaterThan(0);
    // Both acknowledged writes the stale push overwrote are counted, not only the LWW one.
    expect(lost.violations.map((v: { table: string }) => v.table).sort()).toEqual(['goals', 'training_plans']);
    const m = res.scenarios[0].metrics.find((x: { name: string; tags?: object }) => x.name === 'lost_writes');
    expect(m.value).toBe(2);
    const a = res.scenarios[0].checks.find((c: { name: string }) => c.name === 'scenario-assertions');
    expect(a.passed).toBe(false);
    const v = res.scenarios[0].metrics.find(
      (x: { name: string; tags?: { check?: string } }) =>
        x.name === 'check_violations' && x.tags?.check === 'scenario-assertions',
    );
    expect(v.value).toBe(2);
  });
});
