export { HistoryError } from './errors';
export { type FaultTag, type FaultWindow, faultTagger, faultWindows } from './faulted-syncs';
export {
  JsonlHistoryWriter,
  type ReadOptions,
  readHistory,
  streamHistory,
  type WriterOptions,
  writeHistory,
} from './jsonl';
export { effectiveOutcome, type OpPair, type Pairing, pairOps, pairs } from './pairs';
export {
  type CompleteFields,
  History,
  type HistoryOptions,
  type HistorySink,
  type InvokeFields,
  type OpHandle,
} from './recorder';
