/**
 * Clock skew, applied in one place: the device's run clock (what the recording handle stamps
 * `updated_at` and `deviceTime` with, and what phone and vu drivers read) is shifted, and the driver
 * is told through `setClockOffset` so timestamps it makes itself (a web page's own writes) agree.
 */
import { defineFault, field } from '../plugin';

declare module '../types' {
  interface FaultSpecs {
    clockSkew: { device: string; ms: number };
  }
}

export const fault = defineFault({
  kind: 'clockSkew',
  summary: 'offsets the device clock (what `updated_at` and LWW see)',
  fields: { device: field.device, ms: field.number() },
  targets: (f) => [f.device],
  async apply(f, ctx) {
    const dev = ctx.device(f.device);
    const clock = ctx.deviceClock(f.device);
    if (ctx.kind(f.device)?.clockSkew === 'none' || (!clock && !dev.setClockOffset))
      throw new Error(`device ${f.device} (${dev.kind}) does not support clock skew`);
    if (clock) clock.offsetMs = f.ms;
    dev.setClockOffset?.(f.ms);
  },
  async heal(f, ctx) {
    const clock = ctx.deviceClock(f.device);
    if (clock) clock.offsetMs = 0;
    ctx.device(f.device).setClockOffset?.(0);
  },
  random: (rng, device) => ({ kind: 'clockSkew', device, ms: rng.pick([-1, 1]) * rng.int(1000, 3_600_000) }),
});
