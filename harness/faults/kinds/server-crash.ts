/** SIGKILL the server process (or one instance of `server.instances`); restart it on the same port when healed. */
import { defineFault, field } from '../plugin';

declare module '../types' {
  interface FaultSpecs {
    /** Kills the server process (SIGKILL) until healed; with `instance`, one of `server.instances` only. */
    serverCrash: { instance?: number };
  }
}

export const fault = defineFault({
  kind: 'serverCrash',
  summary: 'SIGKILL the server process (or `instance` of `server.instances`), restart it on the same port when healed',
  fields: { instance: field.optional(field.integer(0)) },
  targets: () => [],
  needs: ['childServer'],
  async apply(f, ctx) {
    await ctx.server?.crash(f.instance);
  },
  heal: async (f, ctx) => ctx.server?.restart(f.instance),
  random: () => ({ kind: 'serverCrash' }),
});
