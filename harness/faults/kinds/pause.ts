/**
 * Freeze a process for the fault's duration and let it go on (Jepsen's pause nemesis): the server
 * child process (SIGSTOP/SIGCONT; with `instance`, one of `server.instances`) or, with `device`, the
 * device's app (a phone's worker thread stops dead). Unlike a crash nothing is lost or restarted:
 * requests in flight stall, timers fire late, and everyone must cope with the gap.
 */
import { HarnessError } from '../../../protocol/harness-error';
import { defineFault, field } from '../plugin';

declare module '../types' {
  interface FaultSpecs {
    /** Without `device`: the server process (or `instance`); with it: that device's app. */
    pause: { device?: string; instance?: number };
  }
}

export const fault = defineFault({
  kind: 'pause',
  summary:
    'SIGSTOP the server process (or `instance`), or with `device` freeze that device app (phone worker); continue when healed',
  fields: { device: field.optional(field.device), instance: field.optional(field.integer(0)) },
  targets: (f) => (f.device ? [f.device] : []),
  // Pausing the server needs it as a process of its own; drawn at random it may be either.
  needs: ['childServer'],
  async apply(f, ctx) {
    if (f.device !== undefined) {
      const dev = ctx.device(f.device);
      if (!dev.pause || !dev.resume)
        throw new HarnessError('HRN_ERR_FAULT_UNSUPPORTED', `device ${f.device} (${dev.kind}) cannot be paused`);
      await dev.pause();
      return;
    }
    if (!ctx.server?.pause)
      throw new HarnessError('HRN_ERR_FAULT_UNSUPPORTED', 'the server cannot be paused (not a child process here)');
    await ctx.server.pause(f.instance);
  },
  async heal(f, ctx) {
    if (f.device !== undefined) await ctx.device(f.device).resume?.();
    else await ctx.server?.resume?.(f.instance);
  },
  random: (rng, device) => (rng.chance(0.5) ? { kind: 'pause' } : { kind: 'pause', device }),
});
