import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tsImport } from 'tsx/esm/api';
import { resolveConfig } from './define-config';
import { HarnessError } from './errors';
import type { HarnessConfig, UserConfig } from './types';

/** Loads harness.config.ts (or the given path). Missing default config = defaults; a missing explicit one is an error. */
export async function loadConfig(
  path?: string,
  cwd = process.cwd(),
): Promise<{ config: HarnessConfig; file?: string }> {
  const file = resolve(cwd, path ?? 'harness.config.ts');
  if (!existsSync(file)) {
    if (path) throw new HarnessError('HRN_ERR_CONFIG', `config file not found: ${file}`);
    return { config: resolveConfig({}) };
  }
  // Through tsImport like scenarios: a plain import() of a .ts outside a "type": "module" package
  // goes through require(esm) and fails with "Cannot require() ES Module … in a cycle".
  let mod: { default?: UserConfig };
  try {
    mod = { default: (await importUserModule(file)) as UserConfig | undefined };
  } catch (e) {
    throw new HarnessError('HRN_ERR_CONFIG', `could not load ${file}: ${(e as Error).message}`);
  }
  if (!mod.default)
    throw new HarnessError(
      'HRN_ERR_CONFIG',
      `${file} has no default export; write \`export default defineConfig({ ... })\``,
    );
  return { config: resolveConfig(mod.default), file };
}

/**
 * Imports a user's TypeScript module (config, scenario) wherever it lives. Outside a `"type":
 * "module"` package a .ts file is compiled as CommonJS, whose `export default` arrives wrapped one
 * level deeper; both shapes give the default export here.
 */
export async function importUserModule(file: string): Promise<unknown> {
  const mod = (await tsImport(pathToFileURL(file).href, import.meta.url)) as { default?: unknown };
  let exp = mod.default;
  if (
    exp &&
    typeof exp === 'object' &&
    'default' in exp &&
    Object.keys(exp).every((k) => k === 'default' || k === '__esModule')
  ) {
    exp = (exp as { default: unknown }).default;
  }
  return exp;
}
