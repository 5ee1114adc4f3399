/**
 * File upload shapes (sync-contract.md "Endpoints": /files/upload-url and /files/complete), shared by
 * the server and every device's upload queue so both sides speak exactly the contract. Validation is
 * strict like the sync endpoints: unknown fields and wrong types are rejected, never coerced.
 */
import { SyncApiError } from './errors';

export interface UploadUrlRequest {
  fileName: string;
  contentType: string;
  size: number;
  /** Lower-case hex SHA-256 of the file's bytes. */
  sha256: string;
}
export interface UploadUrlResponse {
  uploadUrl: string;
  fileKey: string;
  /** ms since the epoch after which the URL no longer works. */
  expiresAt: number;
}
export interface CompleteRequest {
  fileKey: string;
  recordId: string;
  tableName: string;
}
/** The activity's objective columns as the server filled them from the FIT session. */
export interface CompleteResponse {
  success: true;
  fileKey: string;
  recordId: string;
  tableName: 'activities';
  record: Record<string, string | number | null>;
  timestamp: number;
}

export const FIT_CONTENT_TYPE = 'application/vnd.ant.fit';
/** Largest file the server presigns an upload for (a multi-day ultra at 1 Hz is well under this). */
export const MAX_FILE_BYTES = 50 * 1024 * 1024;
/** Tables with a file column; the contract has one. */
export const FILE_TABLES = { activities: 'fit_file_key' } as const;

function strictObject(raw: unknown, what: string, keys: readonly string[]): Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new SyncApiError('SYNC_ERR_BAD_REQUEST', [`the body of ${what} must be a JSON object`]);
  const o = raw as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => !keys.includes(k));
  if (unknown.length)
    throw new SyncApiError('SYNC_ERR_BAD_REQUEST', [
      `${what}: unknown field(s) ${unknown.map((k) => JSON.stringify(k)).join(', ')}; allowed: ${keys.join(', ')}`,
    ]);
  for (const k of keys)
    if (!(k in o)) throw new SyncApiError('SYNC_ERR_BAD_REQUEST', [`${what}: field "${k}" is required`]);
  return o;
}

function str(o: Record<string, unknown>, k: string, what: string, max: number, re?: RegExp, hint?: string): string {
  const v = o[k];
  if (typeof v !== 'string')
    throw new SyncApiError('SYNC_ERR_WRONG_TYPE', [
      `${what}: "${k}" must be a string, got ${v === null ? 'null' : typeof v}`,
    ]);
  if (v.length === 0 || v.length > max)
    throw new SyncApiError('SYNC_ERR_BAD_REQUEST', [`${what}: "${k}" must be 1 to ${max} characters`]);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(v) || /[\ud800-\udfff]/.test(v.replace(/[\ud800-\udbff][\udc00-\udfff]/g, '')))
    throw new SyncApiError('SYNC_ERR_BAD_REQUEST', [`${what}: "${k}" contains control characters or lone surrogates`]);
  if (re && !re.test(v)) throw new SyncApiError('SYNC_ERR_BAD_REQUEST', [`${what}: "${k}" ${hint}`]);
  return v;
}

export function parseUploadUrlRequest(raw: unknown): UploadUrlRequest {
  const what = 'POST /files/upload-url';
  const o = strictObject(raw, what, ['fileName', 'contentType', 'size', 'sha256']);
  const fileName = str(o, 'fileName', what, 255, /^[^/\\]+$/, 'must be a plain file name (no / or \\)');
  const contentType = str(
    o,
    'contentType',
    what,
    127,
    /^[\w.+-]+\/[\w.+-]+$/,
    'must be a MIME type like application/vnd.ant.fit',
  );
  const size = o.size;
  if (typeof size !== 'number')
    throw new SyncApiError('SYNC_ERR_WRONG_TYPE', [`${what}: "size" must be a number, got ${typeof size}`]);
  if (!Number.isInteger(size) || size < 1)
    throw new SyncApiError('SYNC_ERR_BAD_REQUEST', [`${what}: "size" must be a whole number of bytes >= 1`]);
  if (size > MAX_FILE_BYTES) throw new SyncApiError('SYNC_ERR_FILE_TOO_LARGE', [String(size), String(MAX_FILE_BYTES)]);
  const sha256 = str(o, 'sha256', what, 64, /^[0-9a-f]{64}$/, 'must be 64 lower-case hex digits (SHA-256 of the file)');
  return { fileName, contentType, size, sha256 };
}

export function parseCompleteRequest(raw: unknown): CompleteRequest & { tableName: keyof typeof FILE_TABLES } {
  const what = 'POST /files/complete';
  const o = strictObject(raw, what, ['fileKey', 'recordId', 'tableName']);
  const fileKey = str(o, 'fileKey', what, 512);
  const recordId = str(o, 'recordId', what, 128);
  const tableName = str(o, 'tableName', what, 64);
  if (!(tableName in FILE_TABLES))
    throw new SyncApiError('SYNC_ERR_BAD_REQUEST', [
      `${what}: table "${tableName}" has no file column; files attach to: ${Object.keys(FILE_TABLES).join(', ')}`,
    ]);
  return { fileKey, recordId, tableName: tableName as keyof typeof FILE_TABLES };
}

/** A device's upload queue at the end of a run (results.json `devices[].uploads`). */
export interface UploadSummary {
  pending: number;
  done: number;
  /** The failed queue (RFC 2.2.6 "move to failed queue"): what never reached the server, and why. */
  failed: Array<{
    recordId: string;
    fileName: string;
    sha256: string;
    attempts: number;
    reason: string;
    status?: number;
  }>;
  putAttempts: number;
  bytesSent: number;
}

/** One file in a device's upload queue (devices/common/upload-queue.ts). */
export interface UploadItem {
  /** Stable id: table, record and content; enqueueing the same file for the same record twice is a no-op. */
  id: string;
  tableName: string;
  recordId: string;
  fileName: string;
  contentType: string;
  size: number;
  sha256: string;
  /** Failed attempts so far. */
  retryCount: number;
  enqueuedAt: number;
  fileKey?: string;
  lastError?: string;
  /** HTTP status of the last failure, when there was one. */
  lastStatus?: number;
  /** Uploaded, but its record is not on the server yet: completes after the next sync (process()). */
  awaitingSync?: boolean;
  /** The store acknowledged the PUT of `fileKey`; a retry only needs complete(). */
  putDone?: boolean;
  failedAt?: number;
}

export interface UploadQueueStatus {
  pending: number;
  failed: UploadItem[];
  done: number;
  /** PUT attempts made (each try of each item), retries included. */
  putAttempts: number;
  /** Bytes sent in PUTs, retries included (what the radio carried). */
  bytesSent: number;
}

/** A file to attach to a record: queued, persisted, then uploaded (RFC 2.2.6). */
export interface AttachFileRequest {
  table: string;
  recordId: string;
  bytes: Uint8Array;
  fileName: string;
  contentType: string;
}

/**
 * The device-facing API of a device with a file upload queue, the same for every kind that has one
 * (phone, web client), so upload scenarios need not know which kind they drive. Its status is
 * synchronous: a kind whose queue lives elsewhere (the web client's in its page) keeps a copy fresh.
 */
export interface UploadingDevice {
  /** Queues a file and starts uploading; resolves once it is persisted (not uploaded). */
  attachFile(file: AttachFileRequest): Promise<UploadItem>;
  /** Resolves when the queue is empty, or every remaining item has failed or waits for a sync. */
  uploadsSettled(): Promise<void>;
  /** Moves the failed queue back into the queue and starts it (a user's "retry" button). */
  retryFailedUploads(): Promise<number>;
  uploadStatus(): UploadQueueStatus | undefined;
  uploadSummary(): UploadSummary | undefined;
}
