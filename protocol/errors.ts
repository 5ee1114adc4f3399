/**
 * Every error the sync API returns, declared once (Fastify's lib/errors.js habit): a code clients and
 * CI logs can match on, the HTTP status, and a message template that says what to do.
 */
export const SYNC_ERRORS = {
  SYNC_ERR_BAD_REQUEST: { status: 400, message: 'Malformed request: %s' },
  SYNC_ERR_UNKNOWN_TABLE: { status: 400, message: 'Unknown table "%s". Known tables: %s' },
  SYNC_ERR_UNKNOWN_COLUMN: { status: 400, message: '%s' },
  SYNC_ERR_WRONG_TYPE: { status: 400, message: '%s' },
  SYNC_ERR_BAD_JSON: { status: 400, message: 'Request body is not valid JSON: %s' },
  SYNC_ERR_BAD_ENCODING: { status: 400, message: 'Request body could not be decoded: %s' },
  /** RFC 9530 Content-Digest did not match the bytes received: corrupted in transit; nothing applied, send it again. */
  SYNC_ERR_DIGEST_MISMATCH: {
    status: 400,
    message: 'Request body does not match its Content-Digest: %s; nothing was applied, send the same request again.',
  },
  SYNC_ERR_UNAUTHORIZED: { status: 401, message: '%s' },
  SYNC_ERR_FORBIDDEN: { status: 403, message: '%s' },
  SYNC_ERR_NOT_FOUND: { status: 404, message: '%s' },
  SYNC_ERR_STALE_PULL: { status: 409, message: '%s' },
  /** A push claiming a lastPulledAt the server never handed out: it would skip conflict detection. */
  SYNC_ERR_FUTURE_PULL: { status: 409, message: '%s' },
  SYNC_ERR_UPLOAD_INCOMPLETE: { status: 409, message: '%s' },
  SYNC_ERR_RECORD_NOT_SYNCED: { status: 409, message: '%s' },
  /** The operator reset this device's sync state (RFC §3.4): pull everything (lastPulledAt=0), then push. */
  SYNC_ERR_RESYNC_REQUIRED: { status: 410, message: '%s' },
  SYNC_ERR_SCHEMA_VERSION: { status: 412, message: '%s' },
  SYNC_ERR_TOO_LARGE: {
    status: 413,
    message: 'Request body is larger than the 10 MB limit (RFC 0006 §5.2); split the push.',
  },
  SYNC_ERR_FILE_TOO_LARGE: {
    status: 413,
    message: 'The file is %s bytes; the largest file this server accepts is %s bytes.',
  },
  SYNC_ERR_UNSUPPORTED_MEDIA: { status: 415, message: '%s' },
  SYNC_ERR_UNPROCESSABLE: { status: 422, message: '%s' },
  SYNC_ERR_NOT_IMPLEMENTED: { status: 501, message: '%s' },
  SYNC_ERR_UNAVAILABLE: { status: 503, message: '%s' },
  /** Maintenance mode (RFC §3.4): sync routes are closed; the answer carries Retry-After. */
  SYNC_ERR_MAINTENANCE: { status: 503, message: '%s' },
  SYNC_ERR_INTERNAL: { status: 500, message: 'Internal server error (trace id %s); see the server log.' },
} as const;

export type SyncErrorCode = keyof typeof SYNC_ERRORS;

export class SyncApiError extends Error {
  readonly code: SyncErrorCode;
  readonly status: number;
  readonly details?: unknown;
  constructor(code: SyncErrorCode, args: string[] = [], details?: unknown) {
    let i = 0;
    super(SYNC_ERRORS[code].message.replace(/%s/g, () => args[i++] ?? ''));
    this.code = code;
    this.status = SYNC_ERRORS[code].status;
    this.details = details;
  }
  toBody() {
    return { error: { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) } };
  }
}
