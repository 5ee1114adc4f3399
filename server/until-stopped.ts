/**
 * What a foreground server command waits on: Ctrl-C, SIGTERM (CI cancelling a job) or the caller's
 * abort signal, whichever comes first; the listeners are removed so a test that runs the command
 * twice in one process does not leak them.
 */
export function untilStopped(signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
    signal?.addEventListener('abort', done, { once: true });
    if (signal?.aborted) done();
  });
}
