/** `harness serve`: starts postgres + server, prints the listening line, and cleans up completely. */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runServeCommand } from './main';

it('runServeCommand serves until stopped and leaves no process or folder behind', async () => {
  const out = mkdtempSync(join(tmpdir(), 'serve-test-'));
  chmodSync(out, 0o755); // the postgres user must be able to enter it
  const lines: string[] = [];
  const ctrl = new AbortController();
  try {
    const running = runServeCommand({
      services: 'embedded',
      port: 0,
      outputDir: out,
      print: (l) => lines.push(l),
      signal: ctrl.signal,
      logLevel: 'silent',
    });
    let failed: unknown;
    running.catch((e) => {
      failed = e;
    });
    const start = Date.now();
    while (lines.length < 2 && !failed && Date.now() - start < 60_000) await new Promise((r) => setTimeout(r, 50));
    if (failed) throw failed;
    expect(lines[0]).toMatch(/^listening on http:\/\/127\.0\.0\.1:\d+$/);
    expect(lines[1]).toMatch(/curl -s -X POST http:\/\/127\.0\.0\.1:\d+\/auth\/test-token/);
    const base = lines[0]!.slice('listening on '.length);
    const tok = await fetch(`${base}/auth/test-token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId: 'u1', deviceId: 'd1', platform: 'IOS' }),
    }).then((r) => r.json() as Promise<{ token: string }>);
    const pull = await fetch(`${base}/sync/pull?lastPulledAt=0&schemaVersion=2&deviceId=d1`, {
      headers: { authorization: `Bearer ${tok.token}` },
    });
    expect(pull.status).toBe(200);
    const pgDir = readdirSync(out)[0]!;
    ctrl.abort();
    await running;
    expect(readdirSync(out)).toEqual([]);
    expect(execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })).not.toContain(join(out, pgDir));
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  } finally {
    ctrl.abort();
    rmSync(out, { recursive: true, force: true });
  }
});
