/**
 * The tags each metric derived from the history carries (derive.ts writes them). Known before a run
 * starts, so a threshold naming a tag none of them carries is a load-time error instead of a
 * threshold that never finds a sample and "passes".
 */
export const DERIVED_METRIC_TAGS: Readonly<Record<string, readonly string[]>> = {
  syncs: ['path', 'outcome'],
  sync_success_rate: ['path', 'fault'],
  bytes_up: ['path'],
  bytes_down: ['path'],
  sync_latency_ms: ['path', 'payload', 'fault'],
  conflict_rate: ['path'],
  table_conflict_rate: ['table'],
  conflicts: ['table'],
  propagation_ms: ['table'],
};

/** The problem with a threshold key's tags, or undefined (metrics not derived here are scenario metrics: unknown until run). */
export function thresholdTagProblem(name: string, tags: Record<string, string>, key: string): string | undefined {
  const known = DERIVED_METRIC_TAGS[name];
  if (!known) return undefined;
  const unknown = Object.keys(tags).filter((t) => !known.includes(t));
  if (unknown.length === 0) return undefined;
  return `threshold "${key}" names tag${unknown.length > 1 ? 's' : ''} ${unknown.map((t) => `"${t}"`).join(', ')} that no ${name} series carries; its tags are ${known.join(', ')}`;
}
