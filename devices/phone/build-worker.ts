/**
 * The worker runs plain JavaScript: worker threads do not inherit vitest's or tsx's TypeScript
 * transform, so worker.ts is bundled once per process with esbuild (our files and WatermelonDB inlined,
 * only the native better-sqlite3 left to require) into node_modules/.cache, where Node resolves it.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheWorkerBundle } from '../common/worker-bundle';

let built: Promise<string> | undefined;

export function phoneWorkerFile(): Promise<string> {
  built ??= (async () => {
    const here = dirname(fileURLToPath(import.meta.url));
    const entry = join(here, 'worker.ts');
    const { build } = await import('esbuild');
    const out = await build({
      entryPoints: [entry],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      // WatermelonDB, LokiJS and rxjs are bundled in: one file to parse per worker instead of hundreds
      // of small CommonJS modules to resolve and compile. Only the native addon stays a require.
      external: ['better-sqlite3'],
      write: false,
      sourcemap: process.env.PHONE_WORKER_SOURCEMAP ? 'inline' : false,
      logLevel: 'silent',
    });
    return cacheWorkerBundle('sync-harness-phone', out.outputFiles[0]!.text, 'cjs');
  })();
  return built;
}
