/**
 * The worker runs plain JavaScript: worker threads do not inherit vitest's or tsx's TypeScript
 * transform, so worker.ts is bundled once per process with esbuild (our files and WatermelonDB inlined,
 * only the native better-sqlite3 left to require) into node_modules/.cache, where Node resolves it.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

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
    const code = out.outputFiles[0]!.text;
    const hash = createHash('sha1').update(code).digest('hex').slice(0, 12);
    const dir = join(resolve(here, '../..'), 'node_modules', '.cache', 'sync-harness-phone');
    const file = join(dir, `worker-${hash}.cjs`);
    if (!existsSync(file)) {
      mkdirSync(dir, { recursive: true });
      // Several test processes may build at once: write aside, then rename atomically.
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, code);
      renameSync(tmp, file);
      // Bundles of older code accumulate while developing; drop the ones nobody can still be loading.
      for (const f of readdirSync(dir)) {
        const p = join(dir, f);
        if (p !== file && /^worker-.*\.cjs$/.test(f) && Date.now() - statSync(p).mtimeMs > 3_600_000)
          rmSync(p, { force: true });
      }
    }
    return file;
  })();
  return built;
}
