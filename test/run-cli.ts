/**
 * The harness CLI as a child process, for tests that meet it the way users and CI do. Asynchronous on
 * purpose: a spawnSync blocks the test worker's event loop, and several in a row on a loaded machine
 * outlast vitest's 60 s RPC timeout ("Timeout calling onTaskUpdate") although every test passed.
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '..');
export const HARNESS_BIN = join(ROOT, 'bin', 'harness.js');

export interface CliRun {
  code: number | null;
  out: string;
  err: string;
}

export function runHarness(args: string[], opts: { cwd?: string; timeoutMs?: number } = {}): Promise<CliRun> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [HARNESS_BIN, ...args], {
      cwd: opts.cwd ?? ROOT,
      timeout: opts.timeoutMs ?? 240_000,
      env: { ...process.env, NO_COLOR: '1', CI: '1' },
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('close', (code) => done({ code, out, err }));
  });
}
