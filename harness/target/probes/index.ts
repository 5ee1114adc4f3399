/** The target suite's probes, one per bug class (see the README's "Testing your own server"). */
export { probeAtomicPush } from './atomic';
export { probeChanges } from './changes';
export { probeConflicts } from './conflicts';
export { probeEdgeCases } from './edge-cases';
export { probeIsolation } from './isolation';
