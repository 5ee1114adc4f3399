import { probeConflicts } from '../harness/target/probes/index';
import { targetScenario } from './_target';

/** @target: a stale push on every table must be resolved by the table's rule (a blind overwrite shows up here) and reported. */
export default targetScenario(
  'target-conflicts',
  'Stale pushes on every table are resolved by its rule',
  probeConflicts,
);
