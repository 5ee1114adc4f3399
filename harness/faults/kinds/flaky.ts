/** Connections reset by peer with a probability (Toxiproxy reset_peer with toxicity). */
import { defineFault, field } from '../plugin';

declare module '../types' {
  interface FaultSpecs {
    flaky: { device: string; resetProbability: number };
  }
}

export const fault = defineFault({
  kind: 'flaky',
  summary: 'connections reset by peer (Toxiproxy `reset_peer` with toxicity)',
  fields: { device: field.device, resetProbability: field.number(0, 1) },
  targets: (f) => [f.device],
  apply: (f, ctx) => ctx.network(f.device).flaky(f.resetProbability),
  heal: (f, ctx) => ctx.network(f.device).heal(),
  random: (rng, device) => ({ kind: 'flaky', device, resetProbability: rng.pick([0.1, 0.3, 0.5]) }),
});
