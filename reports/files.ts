/** File output shared by the file reporters: where to write, and writing atomically (tmp + rename). */
import { spawn } from 'node:child_process';
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

/** Best effort: a CI box has no browser, and that is not an error. */
export function openInBrowser(file: string) {
  const cmd = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'cmd' : 'xdg-open';
  const args = process.platform === 'win32' ? ['/c', 'start', '', file] : [file];
  try {
    const child = spawn(cmd, args, { detached: true, stdio: 'ignore' });
    child.on('error', () => process.stderr.write(`Open ${file} in a browser (no ${cmd} here).\n`));
    child.unref();
  } catch {
    process.stderr.write(`Open ${file} in a browser.\n`);
  }
}
