export { type Analysis, analyse, RecordIndex, ServerIndex, type SyncInfo, type WriteInfo } from './analysis';
export { atomicPush, checkAtomicPush } from './atomic-push';
export { checkConflictRules, conflictRules } from './conflict-rules';
export { checkConvergence, convergence } from './convergence';
export { checkLostWrites, lostWrites } from './lost-writes';
export { checkNoDuplicates, checkNoResurrection, noDuplicates, noResurrection } from './records';
export { checkerNames, getChecker, registerChecker, runCheckers } from './registry';
export type { Checker, CheckInput, CheckOptions, DeviceFinalState, ServerLogRow, Violation } from './types';
