/**
 * `harness proxy --port 8474`: the embedded proxy standalone, so existing Toxiproxy scripts and
 * clients can point at it. Runs until SIGINT/SIGTERM, then closes every proxy and connection.
 */
import { HarnessError } from '../../config/errors';
import { startEmbeddedToxiproxy } from './embedded/index';

export async function runProxyCommand(opts: { port: number; host: string; metrics?: boolean }): Promise<void> {
  let server: Awaited<ReturnType<typeof startEmbeddedToxiproxy>>;
  try {
    server = await startEmbeddedToxiproxy({
      host: opts.host,
      port: opts.port,
      metrics: opts.metrics,
      log: (line) => process.stderr.write(`${line}\n`),
    });
  } catch (e) {
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
