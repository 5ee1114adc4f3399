// Worker bootstrap: TypeScript entry points run in worker threads through tsx's ESM loader, registered
// for this thread only (a worker's execArgv --import does not carry tsx's hooks on Node 20).
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.__entry);
