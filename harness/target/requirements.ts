/**
 * Whether a scenario can run against a target: what it writes and needs against what the adapter
 * says the target serves. A gap makes the scenario `skipped` with the reason, never `passed`.
 */
import { TABLE_NAMES } from '../../protocol/tables';
import type { ScenarioDefinition } from '../runner/scenario';
import type { ResolvedAdapter } from './types';

export function targetGaps(def: ScenarioDefinition, a: ResolvedAdapter): string[] {
  const out: string[] = [];
  if (def.server?.broken?.length)
    out.push(`it runs the reference server in broken modes (${def.server.broken.join(', ')}), which a target has not`);
  if (def.requires?.admin)
    out.push("it calls the reference server's operator routes (/admin/*), which a target has not");
  const tables = def.requires?.tables === 'any' ? [] : (def.requires?.tables ?? TABLE_NAMES);
  const missing = tables.filter((t) => !a.tables.includes(t));
  if (missing.length)
    out.push(`it writes ${missing.join(', ')}, which adapter "${a.name}" does not serve (adapter.tables)`);
  for (const c of def.requires?.capabilities ?? []) {
    const v = a.capabilities[c];
    if (v === false || (Array.isArray(v) && !v.length)) out.push(`the target lacks ${c} (adapter.capabilities.${c})`);
  }
  const versions = new Set(Object.values(def.devices).map((d) => d.schemaVersion ?? 2));
  for (const v of versions)
    if (!a.capabilities.schemaVersions.includes(v))
      out.push(
        `a device runs schema version ${v}, which the target does not accept (adapter.capabilities.schemaVersions)`,
      );
  const users = new Set(Object.values(def.devices).map((d) => d.user ?? 'user-1'));
  if (users.size > 1 && !a.capabilities.multiUser)
    out.push(`it has ${users.size} users, and auth "${a.auth.kind}" gives every device the same one (adapter.auth)`);
  const uploads = Object.values(def.devices).some((d) => d.kind === 'watch' || d.kind === 'ble-watch');
  if (uploads && !a.capabilities.files)
    out.push('its watches upload FIT files, and the target lacks files (adapter.capabilities.files)');
  return out;
}
