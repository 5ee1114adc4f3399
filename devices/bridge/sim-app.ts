/**
 * The simulated phone as an app behind the test bridge: the app-side module (app/app-bridge.ts) with
 * the simulated phone (devices/phone) as its data layer. This is what the bridge tests drive, and
 * what the `detox` kind launches when its app host is `simulated`: the real-app path differs only in
 * where the WebSocket goes and what executes the commands.
 */
import WebSocket from 'ws';
import type { Clock } from '../../protocol/clock';
import { ScaledClock } from '../../protocol/clock';
import type { TableName } from '../../protocol/tables';
import { PHONE_LTE } from '../energy/radio-model';
import { energyProfileOf } from '../energy/spec';
import type { PhoneAdapterKind } from '../phone/db';
import { createPhone, type PhoneDevice } from '../phone/index';
import { type AppBridge, connectAppBridge } from './app/app-bridge';
import type { MinimalWebSocket } from './ws-endpoint';

export interface SimulatedAppOptions {
  bridgeUrl: string;
  session: string;
  /** Where the app keeps its database (survives terminate + relaunch). */
  dataDir: string;
  /** The app's clock (default: wall time). */
  clock?: Clock;
  adapter?: PhoneAdapterKind;
}

export interface SimulatedApp {
  readonly bridge: AppBridge;
  phone(): PhoneDevice | undefined;
  /** App killed: the phone's worker ends mid-whatever and the socket drops. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

export async function startSimulatedApp(o: SimulatedAppOptions): Promise<SimulatedApp> {
  let phone: PhoneDevice | undefined;
  let bridge: AppBridge | undefined;
  const need = () => {
    if (!phone) throw new Error('HRN_ERR_BRIDGE: the app is not configured yet (configure first)');
    return phone;
  };
  bridge = await connectAppBridge({
    url: o.bridgeUrl,
    session: o.session,
    app: { name: 'sync-harness simulated phone', version: '1', platform: 'simulated' },
    WebSocket: WebSocket as unknown as new (url: string) => MinimalWebSocket,
    handlers: {
      async configure(c, getToken) {
        if (phone) await phone.stop();
        phone = createPhone({
          id: c.deviceId,
          schemaVersion: c.schemaVersion,
          autoTriggers: false,
          adapter: o.adapter,
          ...(c.energy
            ? {
                energy: energyProfileOf(
                  { radio: c.energy.radio, battery: { mAh: c.energy.batteryMah, volts: c.energy.batteryVolts } },
                  PHONE_LTE,
                ),
              }
            : {}),
        });
        await phone.start({
          ...c,
          getToken,
          clock: o.clock ?? new ScaledClock(1),
          dataDir: o.dataDir,
          log: (l) => bridge?.log(l),
        });
      },
      write: async (op) => need().write(op),
      sync: async (trigger) => {
        // The phone's own outcome carries diagnostics (anomalies, heap); the protocol's shape is SyncOutcome.
        const {
          anomalies: _a,
          localConflicts: _l,
          peakHeapBytes: _p,
          energyJ: _e,
          pushBatches: _b,
          ...out
        } = await need().sync(trigger);
        return out;
      },
      snapshot: async () => need().snapshot(),
      pendingChanges: async () => need().pendingChanges(),
      setClockOffset: async (ms) => need().setClockOffset(ms),
      energy: async () => need().energy(),
      // The simulated phone's own persisted queue: what the `phone` kind uploads with, unchanged.
      attachFile: async (f) => need().attachFile({ ...f, table: f.table as TableName }),
      uploadsSettled: async () => need().uploadsSettled(),
      uploadStatus: async () => need().uploadStatus() ?? null,
      retryFailedUploads: async () => need().retryFailedUploads(),
    },
  });
  return {
    bridge,
    phone: () => phone,
    async kill() {
      await phone?.kill();
      phone = undefined;
      bridge.close();
      await bridge.closed;
    },
    async stop() {
      await phone?.stop();
      phone = undefined;
      bridge.close();
      await bridge.closed;
    },
  };
}
