/**
 * The bug classes the target servers can be started with. Both servers take the same names so that one harness
 * detection table covers both wire shapes.
 */
export const BUG_NAMES = [
  'none',
  'blind-overwrite',
  'half-applied-500',
  'cross-user-leak',
  'drop-deletes',
  'stale-timestamp',
] as const;

export type BugName = (typeof BUG_NAMES)[number];

export const BUG_DESCRIPTIONS: Record<BugName, string> = {
  none: 'clean: follows the contract',
  'blind-overwrite': 'pushed updates never conflict: the server row is always overwritten, no conflict is reported',
  'half-applied-500': 'a push touching 2+ tables commits the first table, then answers 500 (the rest is not applied)',
  'cross-user-leak': "a pull returns every user's rows, not only the token user's",
  'drop-deletes': 'pushed deletes are acknowledged but never applied',
  'stale-timestamp':
    'the pull answers a timestamp 5 s (5000 ms) in the future, so writes committed in the next 5 s are never pulled',
};

export function parseBug(value: string | undefined): BugName {
  if (value === undefined) return 'none';
  if ((BUG_NAMES as readonly string[]).includes(value)) return value as BugName;
  throw new Error(`unknown bug "${value}"; use one of: ${BUG_NAMES.join(', ')}`);
}
