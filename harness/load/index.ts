export {
  curveTable,
  DEFAULT_LEVELS,
  type Knee,
  knee,
  RFC_P95_MS,
  type ServerByPhase,
  serverByPhase,
  steppedStages,
} from './curve';
export {
  arrivalSchedule,
  EXECUTORS,
  type ExecutorName,
  type ExecutorResult,
  type ExecutorSpec,
  maxVUsOf,
  runExecutor,
  type Stage,
  stagedValue,
  totalDurationMs,
  validateExecutor,
} from './executors';
export { type LoadRun, type LoadSummary, type PhaseRow, runLoad, summarise, type WindowRow } from './generator';
export {
  GeneratorMonitor,
  isSaturated,
  localPostmaster,
  ProcessSampler,
  ProcessTreeSampler,
  postmasterPid,
  procStats,
  SATURATION,
} from './process-stats';
export { type LoadOptions, runSlice, type SliceResult, shareOf } from './slice';
export { BACKGROUND_TABLES, DEFAULT_MIX, LOAD_TRIGGERS, type LoadTrigger, type TriggerMix } from './triggers';
