/**
 * The CLI as users and CI meet it: exit codes, error messages for bad input, and real runs against
 * the embedded stack (including the checker proofs against deliberately broken servers).
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'harness.js');

/**
 * Runs the CLI as a child process, asynchronously: a spawnSync blocks the test worker's event loop,
 * and several in a row on a loaded machine outlast vitest's 60 s RPC timeout ("Timeout calling onTaskUpdate").
 */
function harness(
  args: string[],
  cwd = ROOT,
  timeout = 240_000,
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      timeout,
      env: { ...process.env, NO_COLOR: '1', CI: '1' },
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('close', (code) => done({ code, out, err }));
  });
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
    writeFileSync(join(dir, 'scenarios', 'oops.ts'), 'export default {{{ syntax error');
    expect((await harness(['list', '--config', join(dir, 'harness.config.ts')])).err).toMatch(
      /oops\.ts: could not be loaded/,
    );
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
  });
});
