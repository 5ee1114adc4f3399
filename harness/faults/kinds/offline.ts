/** The device's proxy refuses new connections and cuts existing ones; a web device also goes offline in the browser. */
import { defineFault, field } from '../plugin';

declare module '../types' {
  interface FaultSpecs {
    offline: { device: string };
  }
}

export const fault = defineFault({
  kind: 'offline',
  summary: "the device's proxy refuses new connections and cuts existing ones",
  fields: { device: field.device },
  targets: (f) => [f.device],
  async apply(f, ctx) {
    await ctx.network(f.device).offline();
    await ctx.device(f.device).setOffline?.(true);
  },
  async heal(f, ctx) {
    await ctx.network(f.device).heal();
    await ctx.device(f.device).setOffline?.(false);
  },
  random: (_rng, device) => ({ kind: 'offline', device }),
});
