/**
 * The sync server as the harness runs it: in process (fast, default) or as a child process that the
 * serverCrash fault can SIGKILL and restart on the same port and database.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ObjectStoreConfig } from '../../server/files/object-store';
import type { ProcessControl } from '../faults/nemesis';
import { freePort } from '../services/postgres/index';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface RunningServer extends Partial<ProcessControl> {
  url: string;
  hostPort: string;
  /** The server's own process (child servers only; it changes across a restart). */
  pid?(): number | undefined;
  close(): Promise<void>;
}

export async function startInProcessServer(opts: {
  databaseUrl: string;
  broken?: string[];
  objectStore?: ObjectStoreConfig;
}): Promise<RunningServer> {
  const { startSyncServer } = await import('../../server/index');
  const s = await startSyncServer({
    databaseUrl: opts.databaseUrl,
    objectStore: opts.objectStore,
    port: 0,
    host: '127.0.0.1',
    broken: opts.broken as any,
    logLevel: process.env.HARNESS_SERVER_LOG ?? 'silent',
  });
  return { url: s.url, hostPort: new URL(s.url).host, close: () => s.close() };
}

export async function startChildServer(opts: {
  databaseUrl: string;
  broken?: string[];
  log?: (l: string) => void;
}): Promise<RunningServer> {
  const port = await freePort();
  const require = createRequire(import.meta.url);
  const tsxLoader = require.resolve('tsx');
  let child: ChildProcess | undefined;
  // Children we kill ourselves (crash fault, restart, close): their exit is expected.
  const killing = new WeakSet<ChildProcess>();
  const spawnOnce = () =>
    new Promise<void>((resolve, reject) => {
      // HARNESS_SERVER_CPU_PROF=DIR: a V8 CPU profile of the server child, written when it is closed.
      const prof = process.env.HARNESS_SERVER_CPU_PROF;
      const args = [
        ...(prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : []),
        '--import',
        tsxLoader,
        join(ROOT, 'server', 'main.ts'),
        '--port',
        String(port),
        '--host',
        '127.0.0.1',
        '--database-url',
        opts.databaseUrl,
      ];
      if (opts.broken?.length) args.push('--broken', opts.broken.join(','));
      const c = spawn(process.execPath, args, {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, NODE_ENV: 'production' },
      });
      child = c;
      let out = '';
      let listening = false;
      // Beyond the server's own wait for its database (DEFAULT_DATABASE_WAIT_MS): a restart during a
      // database outage comes up when the database does.
      const timer = setTimeout(
        () => reject(new Error(`server child did not start within 90 s:\n${out.slice(-2000)}`)),
        90_000,
      );
      c.stdout!.on('data', (b: Buffer) => {
        out += b.toString();
        if (!listening && /listening on http/.test(out)) {
          listening = true;
          clearTimeout(timer);
          resolve();
        }
      });
      // Its log (a line per request) is read only for its last words: keep a tail, not the whole run.
      c.stderr!.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.length > 256 * 1024) out = out.slice(-64 * 1024);
      });
      c.on('exit', (code, sig) => {
        clearTimeout(timer);
        if (!listening)
          reject(new Error(`server child exited (${code ?? sig}) before listening:\n${out.slice(-2000)}`));
        // A death nobody asked for (no crash fault, no close) leaves every device retrying against a
        // closed port; say so, with the server's last words, instead of only "fetch failed" later.
        else if (!killing.has(c))
          opts.log?.(
            `server child (pid ${c.pid}) exited by itself (${code ?? sig}); its last output:\n${out.slice(-2000)}`,
          );
      });
    });
  await spawnOnce();
  const kill = () =>
    new Promise<void>((resolve) => {
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return resolve();
      killing.add(c);
      c.once('exit', () => resolve());
      if (!process.env.HARNESS_SERVER_CPU_PROF) return void c.kill('SIGKILL');
      // A profile is written on a clean exit only: SIGTERM (server/main.ts closes and exits), then KILL.
      c.kill('SIGTERM');
      setTimeout(() => c.exitCode === null && c.signalCode === null && c.kill('SIGKILL'), 10_000).unref();
    });
  // SIGSTOP freezes the process with its sockets open: clients connect (the kernel still accepts)
  // and wait, as with a server stuck in a GC pause or a VM migration, then everything resumes.
  const signal = (sig: NodeJS.Signals) => async () => {
    const c = child;
    if (c && c.exitCode === null && c.signalCode === null) c.kill(sig);
  };
  // One control action at a time: on a loaded machine a restart (spawn, wait for "listening") can
  // outlast the gap before the nemesis's next fault, and a crash or pause landing mid-restart would
  // SIGKILL or freeze the child before it listens, failing the heal and leaving no server.
  let queue: Promise<unknown> = Promise.resolve();
  const serial =
    <T>(f: () => Promise<T>) =>
    (): Promise<T> => {
      const next = queue.then(f, f);
      queue = next.catch(() => undefined);
      return next;
    };
  return {
    url: `http://127.0.0.1:${port}`,
    hostPort: `127.0.0.1:${port}`,
    pid: () => child?.pid,
    pause: serial(signal('SIGSTOP')),
    resume: serial(signal('SIGCONT')),
    crash: serial(kill),
    restart: serial(async () => {
      await signal('SIGCONT')();
      await kill();
      await spawnOnce();
    }),
    close: serial(kill),
  };
}
