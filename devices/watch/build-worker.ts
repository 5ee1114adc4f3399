/**
 * The watch worker runs plain JavaScript: worker threads do not inherit vitest's or tsx's TypeScript
 * transform, and tsx compiling every file per worker costs seconds on a 2-core box. worker.ts is
 * bundled once per process with esbuild into node_modules/.cache (where Node resolves packages).
 * noble/bleno stay external on purpose: they must be required at run time so that the virtual radio's
 * resolve hook can hand them the virtual HCI socket.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cacheWorkerBundle } from '../common/worker-bundle';

let built: Promise<string> | undefined;

/** File URL of the bundled watch worker (HARNESS_WATCH_WORKER=ts runs the TypeScript through tsx). */
export function watchWorkerEntry(): Promise<string> {
  const here = dirname(fileURLToPath(import.meta.url));
  if (process.env.HARNESS_WATCH_WORKER === 'ts') return Promise.resolve(pathToFileURL(join(here, 'worker.ts')).href);
  built ??= (async () => {
    const { build } = await import('esbuild');
    const out = await build({
      entryPoints: [join(here, 'worker.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      external: ['@abandonware/*', 'better-sqlite3', '@garmin/fitsdk', 'tsx', 'esbuild'],
      // createRequire(import.meta.url) in our modules resolves './register.cjs' and packages from the
      // radio folder, as it does unbundled.
      define: { 'import.meta.url': JSON.stringify(pathToFileURL(resolve(here, '../radio/install.ts')).href) },
      write: false,
      logLevel: 'silent',
    });
    return pathToFileURL(cacheWorkerBundle('sync-harness-watch', out.outputFiles[0]!.text, 'mjs')).href;
  })();
  return built;
}
