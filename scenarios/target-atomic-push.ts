import { probeAtomicPush } from '../harness/target/probes/index';
import { targetScenario } from './_target';

/** @target: pushes across tables, valid and with one bad record, apply all or nothing. */
export default targetScenario('target-atomic-push', 'Multi-table pushes apply all or nothing', probeAtomicPush);
