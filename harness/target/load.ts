/** Resolving `--adapter` / `server.target.adapter`: a built-in name, a file exporting defineAdapter, or an object. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { HarnessError } from '../config/errors';
import { importUserModule } from '../config/load';
import { BUILTIN_ADAPTERS } from './builtins';
import { resolveAdapter } from './define-adapter';
import type { ResolvedAdapter, TargetAdapter } from './types';

export async function loadAdapter(
  spec: string | TargetAdapter | undefined,
  cwd = process.cwd(),
): Promise<ResolvedAdapter> {
  if (spec === undefined) return resolveAdapter(BUILTIN_ADAPTERS.contract);
  if (typeof spec === 'object') return resolveAdapter(spec);
  const builtin = BUILTIN_ADAPTERS[spec];
  if (builtin) return resolveAdapter(builtin);
  const file = resolve(cwd, spec);
  if (!existsSync(file))
    throw new HarnessError(
      'HRN_ERR_USAGE',
      `--adapter ${spec}: neither a built-in adapter (${Object.keys(BUILTIN_ADAPTERS).join(', ')}) nor a file`,
      'Pass a built-in name or the path of a file whose default export is defineAdapter({ … }); `harness probe --target URL` writes one.',
    );
  let exp: unknown;
  try {
    exp = await importUserModule(file);
  } catch (e) {
    throw new HarnessError('HRN_ERR_CONFIG', `could not load adapter ${file}: ${(e as Error).message}`);
  }
  if (!exp || typeof exp !== 'object')
    throw new HarnessError(
      'HRN_ERR_CONFIG',
      `${file} has no default export; write \`export default defineAdapter({ … })\``,
    );
  return resolveAdapter(exp as TargetAdapter);
}
