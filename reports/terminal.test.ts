import { describe, expect, it } from 'vitest';
import { Multiplexer } from './multiplexer';
import { createReporters, defaultTerminalReporter } from './registry';
import { generateSampleRun } from './testing/sample-run';
import type { OutStream, Reporter } from './types';

function buffer(isTTY = false): OutStream & { text: string } {
  return {
    text: '',
    isTTY,
    columns: 100,
    write(s: string) {
      this.text += s;
      return true;
    },
  };
}

const { result } = generateSampleRun();
const begin = {
  runId: result.runId,
  outputDir: '/tmp/x',
  seed: 42,
  scenarios: result.scenarios.map((s) => ({
    name: s.name,
    tags: s.tags,
    devices: s.devices.map((d) => ({ id: d.id, kind: d.kind })),
  })),
};

async function drive(r: Reporter) {
  await r.onBegin?.(begin);
  for (const s of result.scenarios) {
    await r.onScenarioBegin?.(begin.scenarios.find((x) => x.name === s.name)!);
    for (let i = 1; i <= 3; i++)
      await r.onProgress?.({
        scenario: s.name,
        opsDone: i * 100,
        opsTotal: 300,
        devices: 4,
        devicesTotal: 4,
        syncs: i * 6,
        syncsFailed: i - 1,
        syncP95Ms: 340,
        faultsActive: i === 2 ? ['offline(phone-1)'] : [],
        elapsedMs: i * 15_000,
      });
    await r.onScenarioEnd?.(s);
  }
  await r.onEnd?.(result);
}

const ANSI = new RegExp(String.fromCharCode(27) + '\\[');
const stripAnsi = (s: string) =>
  s
    .split(String.fromCharCode(27))
    .map((part, i) => (i ? part.replace(/^\[[0-9;]*m/, '') : part))
    .join('');

describe('terminal reporters', () => {
  it('list redraws one progress line in place on a TTY, then prints the summary', async () => {
    const out = buffer(true);
    await drive((await createReporters(['list'], { outputDir: '/tmp/x', stdout: out, env: {} })).reporters[0]!);
    expect(out.text).toContain('\r\x1b[2K');
    expect(out.text).toContain('offline(phone-1)');
    expect(out.text).toMatch(/1 passed.*1 failed.*1 flaky/);
    expect(stripAnsi(out.text)).toContain('check lost-writes: 3 of');
  });

  it('line prints plain lines without ANSI when not a TTY, throttling progress', async () => {
    const out = buffer(false);
    await drive(
      (await createReporters([['line', { progressIntervalMs: 20_000 }]], { outputDir: '/tmp/x', stdout: out, env: {} }))
        .reporters[0]!,
    );
    expect(out.text).not.toMatch(ANSI);
    expect(out.text).not.toContain('\r');
    expect(out.text).toContain('[server-crash-mid-push] ✘ failed');
    // The first progress line comes one interval in: 30 s passes the 20 s throttle; 15 s (too early)
    // and 45 s (15 s after the last) do not.
    expect(out.text.match(/\[offline-edits-converge\] \d+\/300 ops/g)).toHaveLength(1);
    // k6-style running summary: devices up of declared, syncs and their rate, p95 so far, failures, faults.
    expect(out.text).toContain(
      '[offline-edits-converge] 200/300 ops · 4/4 devices · 12 syncs (0.4/s) · p95 340ms · 1 failed · 30.0s · faults offline(phone-1)',
    );
  });

  it('honours NO_COLOR on a TTY and FORCE_COLOR off one', async () => {
    const tty = buffer(true);
    await drive(
      (await createReporters(['line'], { outputDir: '/tmp/x', stdout: tty, env: { NO_COLOR: '1' } })).reporters[0]!,
    );
    expect(tty.text).not.toMatch(ANSI);
    const pipe = buffer(false);
    await drive(
      (await createReporters(['line'], { outputDir: '/tmp/x', stdout: pipe, env: { FORCE_COLOR: '1' } })).reporters[0]!,
    );
    expect(pipe.text).toMatch(ANSI);
  });

  it('dot prints one character per scenario', async () => {
    const out = buffer(false);
    await drive((await createReporters(['dot'], { outputDir: '/tmp/x', stdout: out, env: {} })).reporters[0]!);
    expect(out.text.startsWith('·FF±\n')).toBe(true);
  });

  it('picks list on a TTY and line in CI or pipes', () => {
    expect(defaultTerminalReporter({ outputDir: '', stdout: buffer(true), env: {} })).toBe('list');
    expect(defaultTerminalReporter({ outputDir: '', stdout: buffer(true), env: { CI: 'true' } })).toBe('line');
    expect(defaultTerminalReporter({ outputDir: '', stdout: buffer(false), env: {} })).toBe('line');
  });

  it('rejects unknown reporter names with HRN_ERR_CONFIG', async () => {
    await expect(createReporters(['nope'], { outputDir: '/tmp/x' })).rejects.toMatchObject({
      code: 'HRN_ERR_CONFIG',
      exitCode: 2,
    });
  });

  it('multiplexer keeps going when one reporter throws, and says so on stderr', async () => {
    const err = buffer();
    const seen: string[] = [];
    const mux = new Multiplexer(
      [
        { onEnd: () => Promise.reject(new Error('disk full')) },
        { onEnd: () => void seen.push('second'), printsToStdout: true },
      ],
      err,
    );
    await mux.onEnd(result);
    expect(seen).toEqual(['second']);
    expect(mux.errors).toHaveLength(1);
    expect(err.text).toContain('HRN_ERR_REPORTER');
    expect(err.text).toContain('disk full');
    expect(mux.printsToStdout).toBe(true);
  });
});
