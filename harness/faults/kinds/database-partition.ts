/**
 * The server cut off from PostgreSQL, or its database link slowed, while both stay up: the server's
 * connections go through a proxy of their own (need `dbProxy`), which this fault disables (`cut`:
 * open connections are closed, new ones refused) or delays (`slow`, `latencyMs` each way). Unlike
 * databaseRestart, PostgreSQL itself never notices; the server must turn its failed queries into
 * retryable errors and reconnect once the link is back.
 */
import { defineFault, field } from '../plugin';

declare module '../types' {
  interface FaultSpecs {
    databasePartition: { mode?: 'cut' | 'slow'; latencyMs?: number };
  }
}

export const fault = defineFault({
  kind: 'databasePartition',
  summary: "cut (`mode: 'cut'`, default) or slow (`mode: 'slow'`, `latencyMs`) the server's link to PostgreSQL",
  fields: { mode: field.optional(field.oneOf(['cut', 'slow'])), latencyMs: field.optional(field.number(0)) },
  targets: () => [],
  needs: ['dbProxy'],
  async apply(f, ctx) {
    const link = ctx.dbProxy!;
    if ((f.mode ?? 'cut') === 'cut') await link.offline();
    else await link.latency(f.latencyMs ?? 500);
  },
  heal: async (_f, ctx) => ctx.dbProxy?.heal(),
  random: (rng) =>
    rng.chance(0.5)
      ? { kind: 'databasePartition', mode: 'cut' }
      : { kind: 'databasePartition', mode: 'slow', latencyMs: rng.int(50, 600) },
});
