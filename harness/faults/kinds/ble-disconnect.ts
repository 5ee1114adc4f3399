/** The BLE link drops (at once, or after `afterBytes` more bytes on the air); the devices reconnect by themselves. */

import { defineFault, field } from '../plugin';
import { radioOf } from './ble-out-of-range';

declare module '../types' {
  interface FaultSpecs {
    bleDisconnect: { device: string; afterBytes?: number };
  }
}

export const fault = defineFault({
  kind: 'bleDisconnect',
  summary: 'the BLE link drops (after `afterBytes` on the air); both sides reconnect by themselves',
  fields: { device: field.device, afterBytes: field.optional(field.integer(0)) },
  targets: (f) => [f.device],
  async apply(f, ctx) {
    radioOf(ctx.device(f.device), 'bleDisconnect').disconnect(
      f.afterBytes === undefined ? undefined : { afterBytes: f.afterBytes },
    );
  },
  // An instant: the drop has happened; reconnecting is the devices' own job.
  heal: async () => {},
  random: (rng, device) => ({ kind: 'bleDisconnect', device, afterBytes: rng.int(2_000, 60_000) }),
});
