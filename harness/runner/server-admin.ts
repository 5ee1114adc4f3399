/**
 * The harness's handle on the reference server's operator routes (`/admin/*`): maintenance mode and
 * sync-state resets go to the instances directly, never through a device's proxy (an operator's
 * console is not on the phone's network).
 */
import type { ServerAdmin, SyncHistoryExport } from '../faults/plugin';

export function serverAdmin(
  instanceUrls: () => readonly string[],
  /** Scenario device id → the user and device id the server knows it by. */
  serverIdentity: (deviceId: string) => { userId: string; deviceId: string },
  serverUser: (user: string) => string,
): ServerAdmin {
  return {
    request: (method, path, body) => request(instanceUrls(), method, path, body),
    // The reset lives in the shared database: one instance is enough.
    async resetDevice(deviceId) {
      await request(instanceUrls().slice(0, 1), 'POST', '/admin/devices/reset', serverIdentity(deviceId));
    },
    async syncHistory(user) {
      const path = `/admin/users/${encodeURIComponent(serverUser(user))}/sync-history`;
      const [body] = await request(instanceUrls().slice(0, 1), 'GET', path);
      return body as SyncHistoryExport;
    },
  };
}

/** The request to each URL in turn; the JSON answers in that order. A non-2xx is an error naming it. */
async function request(urls: readonly string[], method: string, path: string, body?: unknown): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const base of urls) {
    const res = await fetch(base.replace(/\/$/, '') + path, {
      method,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${base}${path} answered ${res.status}: ${text.slice(0, 300)}`);
    out.push(text ? JSON.parse(text) : null);
  }
  return out;
}
