/** A bandwidth cap per direction on the device's proxy. */
import { defineFault, field } from '../plugin';

declare module '../types' {
  interface FaultSpecs {
    bandwidth: { device: string; KBps: number };
  }
}

export const fault = defineFault({
  kind: 'bandwidth',
  summary: 'per direction',
  fields: { device: field.device, KBps: field.number(0) },
  targets: (f) => [f.device],
  apply: (f, ctx) => ctx.network(f.device).bandwidth(f.KBps),
  heal: (f, ctx) => ctx.network(f.device).heal(),
  random: (rng, device) => ({ kind: 'bandwidth', device, KBps: rng.int(5, 200) }),
});
