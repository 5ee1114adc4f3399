/**
 * Forced full re-sync (RFC 0006 §3.4 steps 2 and 4): the operator clears the device's sync state on
 * the server. Its next pull from a stamp, or push, gets 410 SYNC_ERR_RESYNC_REQUIRED; the device must
 * drop its sync metadata (not its unpushed changes), pull everything from 0 (the server logs
 * FULL_SYNC) and push again. An operator action, not a condition: healing it does nothing.
 */
import { defineFault, field } from '../plugin';

declare module '../types' {
  interface FaultSpecs {
    resetSyncState: { device: string };
  }
}

export const fault = defineFault({
  kind: 'resetSyncState',
  summary:
    "the server forgets the device's sync state (`POST /admin/devices/reset`): its next incremental pull or push gets 410 `SYNC_ERR_RESYNC_REQUIRED` until it pulls everything from 0 (logged `FULL_SYNC`)",
  fields: { device: field.device },
  targets: (f) => [f.device],
  needs: ['admin'],
  async apply(f, ctx) {
    await ctx.admin!.resetDevice(f.device);
  },
  async heal() {},
  random: (_rng, device) => ({ kind: 'resetSyncState', device }),
});
