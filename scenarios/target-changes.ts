import { probeChanges } from '../harness/target/probes/index';
import { targetScenario } from './_target';

/** @target: acknowledged writes and deletes reach other devices' next pulls; no stale update resurrects; no id twice in a pull. */
export default targetScenario('target-changes', 'Writes and deletes reach the next pull', probeChanges);
