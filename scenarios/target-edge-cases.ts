import { probeEdgeCases } from '../harness/target/probes/index';
import { targetScenario } from './_target';

/** @target: what real WatermelonDB clients send (null first pulls, upserts, only deletes, unknown tables, strings, re-sent pushes). */
export default targetScenario('target-edge-cases', 'Survives what real clients send', probeEdgeCases);
