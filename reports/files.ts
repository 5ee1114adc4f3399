/** File output shared by the file reporters: where to write, and writing atomically (tmp + rename). */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join } from 'node:path';
import type { ReporterContext } from './types';

export function outputPath(ctx: ReporterContext, options: Record<string, unknown>, defaultName: string): string {
  const f = typeof options.outputFile === 'string' ? options.outputFile : defaultName;
  return isAbsolute(f) ? f : join(ctx.outputDir, f);
}

/** A reader never sees half a results.json: CI may upload artifacts while a merge rewrites them. */
export async function writeFileAtomic(path: string, data: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}
