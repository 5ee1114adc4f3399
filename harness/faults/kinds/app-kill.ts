/** Terminate the app (worker, browser) abruptly; restart it from its persisted store when healed. */
import { defineFault, field } from '../plugin';

declare module '../types' {
  interface FaultSpecs {
    appKill: { device: string };
  }
}

export const fault = defineFault({
  kind: 'appKill',
  summary: 'terminate the app (phone worker, browser); restart it from its persisted store when healed',
  fields: { device: field.device },
  targets: (f) => [f.device],
  async apply(f, ctx) {
    const dev = ctx.device(f.device);
    if (!dev.kill) throw new Error(`device ${f.device} (${dev.kind}) cannot be killed`);
    await dev.kill();
  },
  heal: async (f, ctx) => ctx.device(f.device).restart?.(),
  random: (_rng, device) => ({ kind: 'appKill', device }),
});
