/** A black hole: data stops, the connection closes after `ms` (0 = held until healed). */
import { defineFault, field } from '../plugin';

declare module '../types' {
  interface FaultSpecs {
    timeout: { device: string; ms?: number };
  }
}

export const fault = defineFault({
  kind: 'timeout',
  summary: 'black hole (0 = until healed)',
  fields: { device: field.device, ms: field.optional(field.number(0)) },
  targets: (f) => [f.device],
  apply: async (f, ctx) => {
    await ctx.network(f.device).timeout(f.ms ?? 0);
  },
  heal: (f, ctx) => ctx.network(f.device).heal(),
  random: (rng, device) => ({ kind: 'timeout', device, ms: rng.int(500, 5000) }),
});
