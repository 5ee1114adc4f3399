/** Added latency (and jitter), each way, on the device's proxy. */
import { defineFault, field } from '../plugin';

declare module '../types' {
  interface FaultSpecs {
    latency: { device: string; ms: number; jitterMs?: number };
  }
}

export const fault = defineFault({
  kind: 'latency',
  summary: 'added each way',
  fields: { device: field.device, ms: field.number(0), jitterMs: field.optional(field.number(0)) },
  targets: (f) => [f.device],
  apply: (f, ctx) => ctx.network(f.device).latency(f.ms, f.jitterMs ?? 0),
  heal: (f, ctx) => ctx.network(f.device).heal(),
  random: (rng, device) => ({ kind: 'latency', device, ms: rng.int(50, 1500), jitterMs: rng.int(0, 200) }),
});
