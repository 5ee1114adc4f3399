/** Apply a network preset to a device. A preset is a condition, not a fault: healing keeps it. */
import { NETWORK_PRESETS } from '../../config/network-presets';
import { defineFault, field } from '../plugin';

declare module '../types' {
  interface FaultSpecs {
    network: { device: string; preset: string };
  }
}

export const fault = defineFault({
  kind: 'network',
  summary: 'apply a preset (below); healing keeps it',
  fields: { device: field.device, preset: field.oneOf(Object.keys(NETWORK_PRESETS)) },
  targets: (f) => [f.device],
  apply: (f, ctx) => ctx.network(f.device).applyPreset(f.preset),
  heal: async () => {},
});
