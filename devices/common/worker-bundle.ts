/**
 * Worker threads do not inherit vitest's or tsx's TypeScript transform, so device workers run a
 * bundle built with esbuild. This stores one: content-addressed under node_modules/.cache/<name>
 * (where Node resolves packages the bundle leaves external), written aside and renamed so several
 * test processes may build at once, with bundles of older code pruned after an hour.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function cacheWorkerBundle(name: string, code: string, ext: 'cjs' | 'mjs'): string {
  const hash = createHash('sha1').update(code).digest('hex').slice(0, 12);
  const dir = join(ROOT, 'node_modules', '.cache', name);
  const file = join(dir, `worker-${hash}.${ext}`);
  if (existsSync(file)) return file;
  mkdirSync(dir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, code);
  renameSync(tmp, file);
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (p !== file && /^worker-.*\.(cjs|mjs)$/.test(f) && Date.now() - statSync(p).mtimeMs > 3_600_000)
      rmSync(p, { force: true });
  }
  return file;
}
