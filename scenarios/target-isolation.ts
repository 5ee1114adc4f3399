import { probeIsolation } from '../harness/target/probes/index';
import { targetScenario } from './_target';

/** @target: a bystander user's rows never reach another user's pull or devices, nor their pushes the bystander's rows. */
export default targetScenario('target-isolation', "One user's rows never reach another", probeIsolation);
