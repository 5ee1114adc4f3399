/**
 * Operator routes under `/admin/` (test mode only, like `/auth/test-token`; a production deployment
 * would put them behind its own admin auth). They are not part of the sync contract: devices never
 * call them, the harness's faults and scenarios do.
 */
import type { FastifyInstance } from 'fastify';
import { SyncApiError } from '../../protocol/errors';
import type { SyncStore } from '../store';
import { type Maintenance, parseMaintenanceRequest } from './maintenance';

/** `POST /admin/devices/reset` body: `{ userId, deviceId }`, strictly. */
function parseResetRequest(raw: unknown): { userId: string; deviceId: string } {
  const body = (typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? raw : null) as Record<
    string,
    unknown
  > | null;
  if (!body) throw new SyncApiError('SYNC_ERR_BAD_REQUEST', ['body must be { userId, deviceId }']);
  for (const k of Object.keys(body))
    if (k !== 'userId' && k !== 'deviceId')
      throw new SyncApiError('SYNC_ERR_BAD_REQUEST', [`unexpected field "${k}"; expected userId, deviceId`]);
  for (const k of ['userId', 'deviceId'] as const)
    if (typeof body[k] !== 'string' || body[k] === '' || (body[k] as string).length > 200)
      throw new SyncApiError('SYNC_ERR_BAD_REQUEST', [`${k} must be a non-empty string of at most 200 characters`]);
  return { userId: body.userId as string, deviceId: body.deviceId as string };
}

export function registerAdminRoutes(
  app: FastifyInstance,
  o: { maintenance: Maintenance; store: SyncStore; retentionDays: number },
): void {
  // Runs the retention job now (it also runs hourly): `{ days? }` overrides the server's setting.
  app.post('/admin/retention', async (req) => {
    const raw = (req.body ?? {}) as Record<string, unknown>;
    for (const k of Object.keys(raw))
      if (k !== 'days') throw new SyncApiError('SYNC_ERR_BAD_REQUEST', [`unexpected field "${k}"; expected days`]);
    const days = raw.days ?? o.retentionDays;
    if (!(typeof days === 'number' && Number.isInteger(days) && days >= 0 && days <= 36_500))
      throw new SyncApiError('SYNC_ERR_BAD_REQUEST', ['days must be an integer from 0 to 36500']);
    const [deleted, pushResultsDeleted] = await Promise.all([o.store.pruneSyncLog(days), o.store.prunePushResults()]);
    return { days, deleted, pushResultsDeleted };
  });
  // GDPR export (RFC §5.1 "data export includes sync history"): the user's devices and sync_log.
  app.get('/admin/users/:userId/sync-history', async (req) => {
    const { userId } = req.params as { userId: string };
    const pool = o.store.pool;
    const [devices, log] = await Promise.all([
      pool.query(
        `SELECT device_id AS "deviceId", platform, last_pulled_at::float8 AS "lastPulledAt", last_pushed_at::float8 AS "lastPushedAt",
                schema_version AS "schemaVersion", created_at AS "createdAt", updated_at AS "updatedAt"
           FROM sync_state WHERE user_id = $1 ORDER BY device_id`,
        [userId],
      ),
      pool.query(
        `SELECT id::float8 AS id, device_id AS "deviceId", operation, table_name AS "tableName", record_count AS "recordCount",
                duration_ms AS "durationMs", success, error, timestamp, trace_id AS "traceId"
           FROM sync_log WHERE user_id = $1 ORDER BY id`,
        [userId],
      ),
    ]);
    return { userId, exportedAt: new Date().toISOString(), devices: devices.rows, log: log.rows };
  });
  // Forced full re-sync (RFC §3.4 steps 2 and 4): the device's next pull or push gets 410.
  app.post('/admin/devices/reset', async (req) => {
    const r = parseResetRequest(req.body);
    const { resetAt } = await o.store.resetDevice(r.userId, r.deviceId);
    req.log.warn({ userId: r.userId, deviceId: r.deviceId }, 'device sync state reset: full re-sync required');
    return { ...r, resetAt };
  });
  app.get('/admin/maintenance', async () => o.maintenance.get());
  app.put('/admin/maintenance', async (req) => {
    const r = parseMaintenanceRequest(req.body);
    const state = o.maintenance.set(r.enabled, r.retryAfterSeconds);
    req.log.warn({ maintenance: state }, state.enabled ? 'maintenance mode on' : 'maintenance mode off');
    return state;
  });
}
