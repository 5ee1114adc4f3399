/**
 * Send the app to the background (home button) and bring it back when healed: what a real phone's
 * background fetch and connectivity handling see. Detox phones go home for real; the simulated
 * phone closes its events stream (no poke or reconnect syncs, only background fetch) and reopens it
 * in the foreground. Devices that have no such state (browsers, VUs, watches) refuse it clearly
 * rather than pretend.
 */
import { HarnessError } from '../../../protocol/harness-error';
import { defineFault, field } from '../plugin';

declare module '../types' {
  interface FaultSpecs {
    appBackground: { device: string };
  }
}

export const fault = defineFault({
  kind: 'appBackground',
  summary:
    'send the app to the background (Detox sendToHome; simulated phone: events stream closed, only background fetch syncs); foreground when healed',
  fields: { device: field.device },
  targets: (f) => [f.device],
  async apply(f, ctx) {
    const dev = ctx.device(f.device);
    if (!dev.background)
      throw new HarnessError('HRN_ERR_FAULT_UNSUPPORTED', `device ${f.device} (${dev.kind}) has no background state`);
    await dev.background();
  },
  heal: async (f, ctx) => ctx.device(f.device).foreground?.(),
});
