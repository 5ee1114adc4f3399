/**
 * Power loss without fsync on a device: the app dies and its local database loses the writes it
 * committed in the last `ms` (simulated ms, divided by the time scale); it boots from what survived
 * when healed. The fault-start event records the loss (lostWallMs, applyMs), from which the checkers
 * tell writes the device lost before pushing them (never the server's fault) from writes the server
 * acknowledged and must keep (harness/checkers/analysis.ts).
 */
import { HarnessError } from '../../../protocol/harness-error';
import { defineFault, field } from '../plugin';

declare module '../types' {
  interface FaultSpecs {
    lostLocalWrites: { device: string; ms: number };
  }
}

export const fault = defineFault({
  kind: 'lostLocalWrites',
  summary: 'power loss: the app dies and its database loses the commits of the last `ms`; it boots again when healed',
  fields: { device: field.device, ms: field.number(0) },
  targets: (f) => [f.device],
  async apply(f, ctx) {
    const dev = ctx.device(f.device);
    if (!dev.powerLoss)
      throw new HarnessError(
        'HRN_ERR_FAULT_UNSUPPORTED',
        `device ${f.device} (${dev.kind}) has no model of power loss (phones on SQLite have one)`,
      );
    const r = await dev.powerLoss(f.ms / ctx.clock.timeScale);
    return { lostWallMs: r.lostWallMs, lostLogBytes: r.lostLogBytes };
  },
  heal: async (f, ctx) => ctx.device(f.device).restart?.(),
  random: (rng, device) => ({ kind: 'lostLocalWrites', device, ms: rng.int(100, 3000) }),
});
