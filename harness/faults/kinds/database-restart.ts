/** Stop PostgreSQL (fast or immediate shutdown) and start it again when healed. */
import { defineFault, field } from '../plugin';

declare module '../types' {
  interface FaultSpecs {
    databaseRestart: { mode?: 'fast' | 'immediate' };
  }
}

export const fault = defineFault({
  kind: 'databaseRestart',
  summary: 'stop PostgreSQL (`fast`/`immediate`), start it when healed',
  fields: { mode: field.optional(field.oneOf(['fast', 'immediate'])) },
  targets: () => [],
  needs: ['database'],
  async apply(f, ctx) {
    await ctx.database?.stop(f.mode ?? 'fast');
  },
  heal: async (_f, ctx) => ctx.database?.start(),
  random: (rng) => ({ kind: 'databaseRestart', mode: rng.pick(['fast', 'immediate'] as const) }),
});
