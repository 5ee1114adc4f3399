/**
 * Deliberately broken behaviours for the harness's own checker tests: each one violates exactly one
 * rule of sync-contract.md, so a checker that fails to flag it is itself broken. Test mode only, off
 * by default; enabled with the `broken` option or SYNC_SERVER_BROKEN=a,b. See server/README.md.
 */
export const BROKEN_MODES = [
  /** Ignore the conflict check: a stale update overwrites a newer row (lost update). */
  'skip-stale-check',
  /** One transaction per table, validation per table, and a simulated crash after the first table of a multi-table push. */
  'split-push-transactions',
  /** Stamp = wall clock taken before the lock, 100 ms before commit; pull timestamp = now: pulls miss writes. */
  'stamp-before-commit',
  /** Pull emits ids twice: first updated row duplicated, deleted ids also in `updated`. */
  'duplicate-ids-in-pull',
  /** A stale update of a tombstoned row brings it back to life. */
  'resurrect-on-update',
  /** Conflicts are resolved but no CONFLICT_RESOLVED row is written to sync_log. */
  'drop-conflicts-from-log',
  /** An incremental pull answers the lastPulledAt it was sent as its timestamp: devices re-pull the same changes forever (a sync loop). */
  'stuck-pull-timestamp',
  /** A push carrying a record with a string value that contains "poison" answers 500 every time: the device retries it forever (a failing sync loop). */
  'poison-push',
] as const;

export type BrokenMode = (typeof BROKEN_MODES)[number];

export function isBrokenMode(s: string): s is BrokenMode {
  return (BROKEN_MODES as readonly string[]).includes(s);
}

/** Parses `a,b` (env SYNC_SERVER_BROKEN); unknown names are an error, not silently ignored. */
export function parseBrokenModes(raw: string | undefined): BrokenMode[] {
  if (!raw?.trim()) return [];
  const out: BrokenMode[] = [];
  for (const part of raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    if (!isBrokenMode(part)) {
      throw new Error(`SYNC_SERVER_BROKEN: unknown broken mode "${part}"; known: ${BROKEN_MODES.join(', ')}`);
    }
    out.push(part);
  }
  return out;
}

/** poison-push: does this push carry a created or updated record with "poison" in a string value? */
export function carriesPoison(
  changes: Record<string, { created?: unknown[]; updated?: unknown[] } | undefined>,
): boolean {
  return Object.values(changes).some((tc) =>
    [...(tc?.created ?? []), ...(tc?.updated ?? [])].some((r) =>
      Object.values(r as Record<string, unknown>).some((v) => typeof v === 'string' && v.includes('poison')),
    ),
  );
}
