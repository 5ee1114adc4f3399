/**
 * `harness serve` and the child-process entry point.
 *
 *   npx tsx server/main.ts --port 0 --database-url postgres://…   (spawned by the harness; serverCrash
 *   kills it with SIGKILL and restarts it on the same port and database)
 *   npx tsx server/main.ts --services embedded                      (a throwaway server for humans)
 *
 * stdout carries exactly one `listening on http://127.0.0.1:<port>` line (then a curl recipe); logs and
 * the postgres line go to stderr so a parent can parse stdout.
 */
import { pathToFileURL } from 'node:url';
import pino from 'pino';
import { type StartedSyncServer, startSyncServer } from './app';
import { parseBrokenModes } from './broken';
import type { ObjectStoreConfig } from './files/object-store';
import { type PostgresMode, type ResolvedPostgres, resolvePostgres } from './services/postgres';
import { untilStopped } from './until-stopped';

export interface ServeOptions {
  port?: number;
  host?: string;
  services: PostgresMode;
  databaseUrl?: string;
  outputDir?: string;
  /** Where the listening line and recipe go (default stdout). */
  print?: (line: string) => void;
  /** Stops the server like Ctrl-C does (tests). */
  signal?: AbortSignal;
  logLevel?: string;
  /** S3 endpoint for `/files/*` (FIT uploads); without it those routes answer 501. */
  objectStore?: ObjectStoreConfig;
}

/**
 * Starts PostgreSQL (per `services`) and the sync server, prints the listening line and a test-token
 * recipe, runs until Ctrl-C/SIGTERM (or `signal`), then stops everything it started.
 */
export async function runServeCommand(opts: ServeOptions): Promise<void> {
  const print = opts.print ?? ((l: string) => process.stdout.write(`${l}\n`));
  const mode: PostgresMode = opts.services === 'auto' && opts.databaseUrl ? 'url' : opts.services;
  let pgService: ResolvedPostgres | undefined;
  let server: StartedSyncServer | undefined;
  const stopAll = async () => {
    await server?.close().catch(() => {});
    await pgService?.stop().catch(() => {});
  };
  try {
    pgService = await resolvePostgres({
      mode,
      url: opts.databaseUrl,
      dataDir: opts.outputDir,
      log: (l) => process.stderr.write(`${l}\n`),
    });
    server = await startSyncServer({
      databaseUrl: pgService.url,
      host: opts.host ?? '127.0.0.1',
      port: opts.port ?? 0,
      logLevel: opts.logLevel,
      logStream: process.stderr,
      ...(opts.objectStore ? { objectStore: opts.objectStore } : {}),
    });
  } catch (e) {
    await stopAll();
    throw e;
  }
  print(`listening on http://127.0.0.1:${server.port}`);
  print(
    `get a token: curl -s -X POST http://127.0.0.1:${server.port}/auth/test-token -H 'content-type: application/json' ` +
      `-d '{"userId":"u1","deviceId":"d1","platform":"IOS"}'  then: curl -s -H "authorization: Bearer $TOKEN" ` +
      `'http://127.0.0.1:${server.port}/sync/pull?lastPulledAt=0&schemaVersion=2&deviceId=d1'`,
  );
  if (opts.objectStore)
    print(
      `file uploads: /files/upload-url and /files/complete store into ${opts.objectStore.endpoint}/${opts.objectStore.bucket} (server/README.md "Upload a FIT file by hand")`,
    );
  await untilStopped(opts.signal);
  await stopAll();
}

function parseArgs(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new Error(`unexpected argument "${a}"`);
    const eq = a.indexOf('=');
    if (eq > 0) out[a.slice(2, eq)] = a.slice(eq + 1);
    else {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith('--')) throw new Error(`${a} needs a value`);
      out[a.slice(2)] = v;
      i++;
    }
  }
  return out;
}

const USAGE =
  'usage: tsx server/main.ts [--port 0] [--host 127.0.0.1] [--database-url postgres://…] ' +
  '[--services embedded|url|container|auto] [--output-dir DIR] [--log-level info] [--broken a,b]';

async function cli(): Promise<void> {
  let args: Record<string, string>;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`SYNC_ERR_USAGE: ${e instanceof Error ? e.message : String(e)}\n${USAGE}\n`);
    process.exit(2);
  }
  const known = new Set(['port', 'host', 'database-url', 'services', 'output-dir', 'log-level', 'broken']);
  for (const k of Object.keys(args)) {
    if (!known.has(k)) {
      process.stderr.write(`SYNC_ERR_USAGE: unknown option --${k}\n${USAGE}\n`);
      process.exit(2);
    }
  }
  const port = args.port === undefined ? 0 : Number(args.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`SYNC_ERR_USAGE: --port must be 0..65535\n`);
    process.exit(2);
  }
  if (args.broken) process.env.SYNC_SERVER_BROKEN = parseBrokenModes(args.broken).join(',');
  const databaseUrl = args['database-url'] ?? process.env.DATABASE_URL;
  const services = (args.services ?? (databaseUrl ? 'url' : 'embedded')) as PostgresMode;
  if (services === 'url' && databaseUrl) {
    // Child-process mode: the parent owns the database; we own only the HTTP server.
    const server = await startSyncServer({
      databaseUrl,
      host: args.host ?? '127.0.0.1',
      port,
      logLevel: args['log-level'],
      // Buffered, written asynchronously (flushed on exit): one synchronous write to the parent's pipe
      // per request was 14 % of the server's sampled time at 1000 concurrent syncs, and it blocked the
      // event loop whenever the parent was slow to read.
      logStream: pino.destination({ fd: 2, sync: false, minLength: 4096 }),
    });
    process.stdout.write(`listening on http://127.0.0.1:${server.port}\n`);
    const stop = () => {
      void server.close().finally(() => process.exit(0));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    return;
  }
  await runServeCommand({
    port,
    host: args.host,
    services,
    databaseUrl,
    outputDir: args['output-dir'],
    logLevel: args['log-level'],
  });
  process.exit(0);
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  cli().catch((e) => {
    const code = (e as { code?: string }).code;
    process.stderr.write(`${code ?? 'SYNC_ERR_START'}: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
