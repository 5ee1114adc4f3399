/**
 * Operator routes under `/admin/` (test mode only, like `/auth/test-token`; a production deployment
 * would put them behind its own admin auth). They are not part of the sync contract: devices never
 * call them, the harness's faults and scenarios do.
 */
import type { FastifyInstance } from 'fastify';
import { type Maintenance, parseMaintenanceRequest } from './maintenance';

export function registerAdminRoutes(app: FastifyInstance, o: { maintenance: Maintenance }): void {
  app.get('/admin/maintenance', async () => o.maintenance.get());
  app.put('/admin/maintenance', async (req) => {
    const r = parseMaintenanceRequest(req.body);
    const state = o.maintenance.set(r.enabled, r.retryAfterSeconds);
    req.log.warn({ maintenance: state }, state.enabled ? 'maintenance mode on' : 'maintenance mode off');
    return state;
  });
}
