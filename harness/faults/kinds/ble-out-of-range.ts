/** The watch leaves the phone's radio range (advertising unheard, the link lost) until healed. */
import type { Device, RadioLinkControl } from '../../../protocol/device';
import { defineFault, field } from '../plugin';

declare module '../types' {
  interface FaultSpecs {
    bleOutOfRange: { device: string };
  }
}

export const fault = defineFault({
  kind: 'bleOutOfRange',
  summary: "the watch is out of the phone's radio range until healed",
  fields: { device: field.device },
  targets: (f) => [f.device],
  async apply(f, ctx) {
    radioOf(ctx.device(f.device), 'bleOutOfRange').setInRange(false);
  },
  async heal(f, ctx) {
    radioOf(ctx.device(f.device), 'bleOutOfRange').setInRange(true);
  },
  random: (_rng, device) => ({ kind: 'bleOutOfRange', device }),
});

export function radioOf(dev: Device, fault: string): RadioLinkControl {
  if (!dev.radioLink) throw new Error(`device ${dev.id} (${dev.kind}) has no BLE link for ${fault}`);
  return dev.radioLink;
}
