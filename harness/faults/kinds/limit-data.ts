/** Cut the connection after N bytes in one direction: mid-push or mid-pull. */
import { defineFault, field } from '../plugin';

declare module '../types' {
  interface FaultSpecs {
    limitData: { device: string; bytes: number; direction?: 'upstream' | 'downstream' };
  }
}

export const fault = defineFault({
  kind: 'limitData',
  summary: 'cut the connection after N bytes: mid-push or mid-pull',
  fields: {
    device: field.device,
    bytes: field.number(0),
    direction: field.optional(field.oneOf(['upstream', 'downstream'])),
  },
  targets: (f) => [f.device],
  apply: async (f, ctx) => {
    await ctx.network(f.device).limitData(f.bytes, f.direction);
  },
  heal: (f, ctx) => ctx.network(f.device).heal(),
  random: (rng, device) => ({
    kind: 'limitData',
    device,
    bytes: rng.int(100, 20_000),
    direction: rng.pick(['upstream', 'downstream'] as const),
  }),
});
