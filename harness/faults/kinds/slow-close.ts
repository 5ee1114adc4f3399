/** The proxy delays closing connections. */
import { defineFault, field } from '../plugin';

declare module '../types' {
  interface FaultSpecs {
    slowClose: { device: string; delayMs: number };
  }
}

export const fault = defineFault({
  kind: 'slowClose',
  summary: 'connections close late',
  fields: { device: field.device, delayMs: field.number(0) },
  targets: (f) => [f.device],
  apply: async (f, ctx) => {
    await ctx.network(f.device).slowClose(f.delayMs);
  },
  heal: (f, ctx) => ctx.network(f.device).heal(),
  random: (rng, device) => ({ kind: 'slowClose', device, delayMs: rng.int(100, 2000) }),
});
