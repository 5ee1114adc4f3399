/**
 * A load-generator worker process (forked by generator.ts): runs one slice and sends its result,
 * histograms as compressed HDR, back over IPC. Progress goes up as messages; nothing on stdout.
 */
import { type LoadOptions, runSlice } from './slice';

interface Start {
  type: 'start';
  options: Omit<LoadOptions, 'getToken' | 'onProgress'>;
  slice: number;
  slices: number;
}

process.once('message', async (m: Start) => {
  try {
    const result = await runSlice(
      { ...m.options, onProgress: (p) => process.send!({ type: 'progress', slice: m.slice, progress: p }) },
      m.slice,
      m.slices,
    );
    process.send!({ type: 'result', result }, () => process.exit(0));
  } catch (e) {
    process.send!({ type: 'error', message: (e as Error).message }, () => process.exit(1));
  }
});
