/** `use.devices['ble-watch']` in harness.config.ts: which BLE transport, which adapter, which watch. */
import { HarnessError } from '../../protocol/harness-error';

export interface BleWatchOptions {
  /**
   * 'hci' (default): noble on a real Bluetooth adapter. 'virtual': noble on the virtual radio with a
   * simulated watch as the peripheral (the same central code, for machines without an adapter).
   */
  transport: 'hci' | 'virtual';
  /** HCI adapter index (NOBLE_HCI_DEVICE_ID), e.g. 0 for hci0. */
  adapter?: number;
  /** BD address of the watch to use; default: the first one advertising the watch sync service. */
  address?: string;
  /** Wall ms (simulated on the virtual radio) to find and set up the watch (default 60 s). */
  connectTimeoutMs: number;
}

const DEFAULTS: BleWatchOptions = { transport: 'hci', connectTimeoutMs: 60_000 };

function bad(field: string, expected: string, got: unknown): never {
  throw new HarnessError(
    'HRN_ERR_CONFIG',
    `config field "use.devices.ble-watch.${field}" must be ${expected}, got ${JSON.stringify(got) ?? typeof got}`,
  );
}

export function resolveBleWatchOptions(raw: unknown): BleWatchOptions {
  if (raw === undefined) return { ...DEFAULTS };
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) bad('', 'an object', raw);
  const o = raw as Record<string, unknown>;
  const known = ['transport', 'adapter', 'address', 'connectTimeoutMs'];
  for (const k of Object.keys(o)) if (!known.includes(k)) bad(k, `one of the known fields (${known.join(', ')})`, k);
  if (o.transport !== undefined && o.transport !== 'hci' && o.transport !== 'virtual')
    bad('transport', '"hci" or "virtual"', o.transport);
  if (o.adapter !== undefined && !(Number.isInteger(o.adapter) && (o.adapter as number) >= 0))
    bad('adapter', 'an adapter index (integer >= 0)', o.adapter);
  if (o.address !== undefined && !(typeof o.address === 'string' && /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(o.address)))
    bad('address', 'a BD address like "c0:ff:ee:00:00:01"', o.address);
  if (o.connectTimeoutMs !== undefined && !(typeof o.connectTimeoutMs === 'number' && o.connectTimeoutMs > 0))
    bad('connectTimeoutMs', 'a number > 0', o.connectTimeoutMs);
  return { ...DEFAULTS, ...(o as Partial<BleWatchOptions>) };
}
