/** The public API for config and scenario files. */
export { defineConfig } from './config/define-config';
export { NETWORK_PRESETS } from './config/network-presets';
export type { HarnessConfig, UserConfig } from './config/types';
export type { FaultPlan, FaultSpec, RandomNemesis, ScheduledFault } from './faults/types';
export type { DeviceHandle, DeviceSpec, RandomWorkload, ScenarioContext, ScenarioDefinition } from './runner/scenario';
export { defineScenario } from './runner/scenario';
export { type Generator, gen } from './runner/workload-driver';
export { defineAdapter } from './target/define-adapter';
export type { TargetAdapter } from './target/types';
