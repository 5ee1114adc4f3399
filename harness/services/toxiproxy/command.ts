/**
 * `harness proxy --port 8474`: the embedded proxy standalone, so existing Toxiproxy scripts and
 * clients can point at it. Runs until SIGINT/SIGTERM, then closes every proxy and connection.
 */
import { readFileSync } from 'node:fs';
import { HarnessError } from '../../config/errors';
import { type EmbeddedToxiproxyOptions, startEmbeddedToxiproxy } from './embedded/index';
import { ApiError } from './embedded/proxy';

export async function runProxyCommand(opts: {
  port: number;
  host: string;
  /** Serve GET /metrics (the real server's -proxy-metrics). */
  metrics?: boolean;
  /** A JSON array of proxies to create at start-up (the real server's -config file). */
  config?: string;
}): Promise<void> {
  let proxies: EmbeddedToxiproxyOptions['proxies'];
  if (opts.config) {
    try {
      proxies = JSON.parse(readFileSync(opts.config, 'utf8'));
      if (!Array.isArray(proxies)) throw new Error('expected a JSON array of proxies');
    } catch (e) {
      throw new HarnessError(
        'HRN_ERR_USAGE',
        `cannot read the proxy config ${opts.config}: ${(e as Error).message}`,
        'Pass a JSON array like [{"name": "db", "listen": "127.0.0.1:15432", "upstream": "127.0.0.1:5432"}].',
      );
    }
  }
  let server: Awaited<ReturnType<typeof startEmbeddedToxiproxy>>;
  try {
    server = await startEmbeddedToxiproxy({
      host: opts.host,
      port: opts.port,
      metrics: opts.metrics,
      proxies,
      log: (line) => process.stderr.write(`${line}\n`),
    });
  } catch (e) {
    if (e instanceof ApiError) {
      throw new HarnessError(
        'HRN_ERR_USAGE',
        `cannot create the proxies of ${opts.config}: ${e.message}`,
        'Fix the config file (each entry needs name and upstream; listen ports must be free).',
      );
    }
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'EADDRINUSE' ? `port ${opts.port} is already in use` : err.message;
    throw new HarnessError(
      'HRN_ERR_USAGE',
      `cannot listen on ${opts.host}:${opts.port}: ${why}`,
      'Pick another --port (0 = any free port) or stop whatever holds it.',
    );
  }
  const shown = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  process.stdout.write(`toxiproxy-compatible API listening on http://${shown}:${server.port}\n`);

  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      process.stderr.write(`${signal}: closing the proxy\n`);
      server.close().then(resolve, resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
