/**
 * Hub and spoke: devices never talk to each other, so a partition between two groups means the
 * second group loses the server while the first keeps it. The targets are the cut-off group.
 */
import { defineFault, type FieldRule, field } from '../plugin';

declare module '../types' {
  interface FaultSpecs {
    partition: { groups: [string[], string[]] };
  }
}

const groups: FieldRule = (v, devices) => {
  if (!Array.isArray(v) || v.length !== 2 || !v.every((g) => Array.isArray(g)))
    return `must be two lists of device ids, e.g. [['phoneA'], ['web']], got ${JSON.stringify(v)}`;
  for (const [i, g] of v.entries())
    for (const d of g as unknown[]) {
      const p = field.device(d, devices);
      if (p) return `[${i}] ${p}`;
    }
  return undefined;
};

export const fault = defineFault({
  kind: 'partition',
  summary: 'hub and spoke: group b loses the server',
  fields: { groups },
  targets: (f) => [...f.groups[1]],
  involves: (f) => [...f.groups[0], ...f.groups[1]],
  async apply(f, ctx) {
    for (const d of f.groups[1]) await ctx.network(d).offline();
  },
  async heal(f, ctx) {
    for (const d of f.groups[1]) await ctx.network(d).heal();
  },
  random(rng, _device, devices) {
    const shuffled = rng.shuffle(devices);
    const cut = Math.max(1, Math.floor(shuffled.length / 2));
    return { kind: 'partition', groups: [shuffled.slice(0, cut), shuffled.slice(cut)] };
  },
});
