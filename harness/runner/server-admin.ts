/**
 * The harness's handle on the reference server's operator routes (`/admin/*`): maintenance mode and
 * sync-state resets go to every instance directly, never through a device's proxy (an operator's
 * console is not on the phone's network).
 */
import type { ServerAdmin } from '../faults/plugin';

export function serverAdmin(instanceUrls: () => readonly string[]): ServerAdmin {
  return {
    async request(method, path, body) {
      const out: unknown[] = [];
      for (const base of instanceUrls()) {
        const res = await fetch(base.replace(/\/$/, '') + path, {
          method,
          ...(body === undefined
            ? {}
            : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(10_000),
        });
        const text = await res.text();
        if (!res.ok) throw new Error(`${method} ${base}${path} answered ${res.status}: ${text.slice(0, 300)}`);
        out.push(text ? JSON.parse(text) : null);
      }
      return out;
    },
  };
}
