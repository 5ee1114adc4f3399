// Worker bootstrap. A bundled entry (plain .mjs, see devices/watch/build-worker.ts) is imported as is;
// a TypeScript entry goes through tsx's ESM loader, registered for this thread only (a worker's
// execArgv --import does not carry tsx's hooks on Node 20).
import { workerData } from 'node:worker_threads';

if (workerData.__entry.endsWith('.ts')) {
  const { register } = await import('tsx/esm/api');
  register();
}
await import(workerData.__entry);
