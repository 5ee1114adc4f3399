/**
 * Maintenance mode (RFC 0006 §3.4 rollback step 1, "disable sync endpoints"): while it is on, every
 * sync route (`/sync/*`, `/files/*`) answers 503 `SYNC_ERR_MAINTENANCE` with `Retry-After`, before
 * authentication and without touching the database; health, metrics and the admin routes stay up.
 * Per process: with several instances the operator (or the harness) switches each one.
 */
import { SyncApiError } from '../../protocol/errors';

/** Paths maintenance closes: the contract's sync and file routes, nothing else. */
const CLOSED_PREFIXES = ['/sync/', '/files/'];
export const DEFAULT_RETRY_AFTER_SECONDS = 5;

export interface MaintenanceState {
  enabled: boolean;
  retryAfterSeconds: number;
  /** ISO time it was switched on (null while off). */
  since: string | null;
  /** Requests refused since it was last switched on. */
  refused: number;
}

export class Maintenance {
  private state: MaintenanceState = {
    enabled: false,
    retryAfterSeconds: DEFAULT_RETRY_AFTER_SECONDS,
    since: null,
    refused: 0,
  };

  get(): MaintenanceState {
    return { ...this.state };
  }

  set(enabled: boolean, retryAfterSeconds = this.state.retryAfterSeconds): MaintenanceState {
    const wasOn = this.state.enabled;
    this.state = {
      enabled,
      retryAfterSeconds,
      since: enabled ? (wasOn ? this.state.since : new Date().toISOString()) : null,
      refused: enabled && wasOn ? this.state.refused : 0,
    };
    return this.get();
  }

  /** The refusal for `path`, or undefined when the path stays open (or maintenance is off). */
  refusal(path: string): SyncApiError | undefined {
    if (!this.state.enabled || !CLOSED_PREFIXES.some((p) => path.startsWith(p))) return undefined;
    this.state.refused++;
    return new SyncApiError('SYNC_ERR_MAINTENANCE', [
      `The sync service is in maintenance; retry after ${this.state.retryAfterSeconds} s (Retry-After). Nothing was changed.`,
    ]);
  }
}

/** `PUT /admin/maintenance` body: `{ enabled, retryAfterSeconds? }`, strictly. */
export function parseMaintenanceRequest(raw: unknown): { enabled: boolean; retryAfterSeconds?: number } {
  const body = (typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? raw : null) as Record<
    string,
    unknown
  > | null;
  if (!body) throw new SyncApiError('SYNC_ERR_BAD_REQUEST', ['body must be { enabled, retryAfterSeconds? }']);
  for (const k of Object.keys(body))
    if (k !== 'enabled' && k !== 'retryAfterSeconds')
      throw new SyncApiError('SYNC_ERR_BAD_REQUEST', [`unexpected field "${k}"; expected enabled, retryAfterSeconds`]);
  if (typeof body.enabled !== 'boolean')
    throw new SyncApiError('SYNC_ERR_BAD_REQUEST', ['enabled must be true or false']);
  const r = body.retryAfterSeconds;
  if (r !== undefined && !(typeof r === 'number' && Number.isInteger(r) && r >= 1 && r <= 86_400))
    throw new SyncApiError('SYNC_ERR_BAD_REQUEST', ['retryAfterSeconds must be an integer from 1 to 86400']);
  return { enabled: body.enabled, ...(r !== undefined ? { retryAfterSeconds: r as number } : {}) };
}
