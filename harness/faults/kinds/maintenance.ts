/**
 * Maintenance mode (RFC 0006 §3.4 rollback step 1): the reference server's sync routes answer 503
 * `SYNC_ERR_MAINTENANCE` with `Retry-After: retryAfterSeconds` on every instance until healed.
 * Devices must wait at least that long between attempts (withBackoff), lose nothing, and resume.
 */
import { defineFault, field } from '../plugin';

declare module '../types' {
  interface FaultSpecs {
    maintenance: { retryAfterSeconds?: number };
  }
}

export const fault = defineFault({
  kind: 'maintenance',
  summary:
    'the server in maintenance mode: sync routes answer 503 with `Retry-After` (seconds, default 5) until healed',
  fields: { retryAfterSeconds: field.optional(field.integer(1)) },
  targets: () => [],
  needs: ['admin'],
  async apply(f, ctx) {
    await ctx.admin!.request('PUT', '/admin/maintenance', {
      enabled: true,
      ...(f.retryAfterSeconds !== undefined ? { retryAfterSeconds: f.retryAfterSeconds } : {}),
    });
  },
  async heal(_f, ctx) {
    await ctx.admin!.request('PUT', '/admin/maintenance', { enabled: false });
  },
  random: (rng) => ({ kind: 'maintenance', retryAfterSeconds: rng.int(1, 5) }),
});
