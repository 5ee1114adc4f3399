export {
  BODY_LIMIT,
  buildApp,
  COMPRESS_THRESHOLD,
  type StartedSyncServer,
  type SyncServerOptions,
  startSyncServer,
  toSyncError,
} from './app';
export { BROKEN_MODES, type BrokenMode, parseBrokenModes } from './broken';
export { runServeCommand, type ServeOptions } from './main';
