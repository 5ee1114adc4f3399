/**
 * The device-side file upload queue of RFC 0006 §2.2.6, made robust, shared by every device kind
 * (phone, web client, the phone end of the watch chain). Isomorphic: storage, the PUT transport and
 * the API calls are injected, so the same logic runs in Node and in the browser bundle.
 *
 * What it guarantees:
 * - Persisted: an item (and its bytes) is on the store before enqueue() resolves; a killed app
 *   resumes from it (load()).
 * - Presign → PUT (with progress) → complete. The server's key is content-addressed, so a retried
 *   upload (lost response, app killed mid-PUT) rewrites the same object: no duplicates.
 * - 3 attempts with exponential backoff (the RFC's 2^retry s), then the item moves to the failed
 *   queue, which results and reports show. A file the server rejects for what it is (422: corrupt
 *   FIT, 413: too large, 400) fails at once: retrying cannot change the answer.
 * - The local record is updated (onCompleted) only after the server confirmed the object.
 */
import type {
  CompleteRequest,
  CompleteResponse,
  UploadItem,
  UploadQueueStatus,
  UploadSummary,
  UploadUrlRequest,
  UploadUrlResponse,
} from '../../protocol/files';

export type { UploadItem, UploadQueueStatus } from '../../protocol/files';

export interface UploadQueueState {
  queue: UploadItem[];
  failed: UploadItem[];
  /** ids of finished uploads (for idempotent enqueue and the results). */
  done: Array<{ id: string; fileKey: string; recordId: string; sha256: string; attempts: number }>;
}

export interface UploadQueueStorage {
  load(): Promise<UploadQueueState | undefined>;
  save(state: UploadQueueState): Promise<void>;
  writeBlob(id: string, bytes: Uint8Array): Promise<void>;
  readBlob(id: string): Promise<Uint8Array | undefined>;
  deleteBlob(id: string): Promise<void>;
}

export interface PutResult {
  status: number;
  body: string;
}

export interface UploadTransport {
  /** PUT exactly these headers and bytes; reports bytes handed to the network. Rejects on network errors. */
  put(
    url: string,
    bytes: Uint8Array,
    headers: Record<string, string>,
    onProgress: (sent: number, total: number) => void,
    signal: AbortSignal,
  ): Promise<PutResult>;
}

/** The two sync-contract calls; errors carry `status` (HTTP) when the server answered. */
export interface FilesApi {
  uploadUrl(req: UploadUrlRequest): Promise<UploadUrlResponse>;
  complete(req: CompleteRequest): Promise<CompleteResponse>;
}

export interface UploadQueueOptions {
  storage: UploadQueueStorage;
  transport: UploadTransport;
  api: FilesApi;
  sha256(bytes: Uint8Array): Promise<string>;
  /** Backoff wait on the device's clock; rejects when `signal` aborts (app killed). */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  now(): number;
  /** Called after the server confirmed the object: update the local record (fit_file_key…). */
  onCompleted?(item: UploadItem, res: CompleteResponse): Promise<void>;
  onProgress?(item: UploadItem, sent: number, total: number): void;
  log?(line: string): void;
  /** Default 3 (RFC §2.2.6). */
  maxAttempts?: number;
  /** Backoff base in ms; the wait after failure n is base · 2^n (RFC: 2 s, 4 s). Default 1000. */
  backoffBaseMs?: number;
}

const PERMANENT_STATUSES = new Set([400, 403, 404, 413, 415, 422]);

export class UploadError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly permanent = false,
    /** The server's error code, when it answered with one. */
    readonly code?: string,
  ) {
    super(message);
  }
}

/** complete() before the record was pushed: not a failed attempt, the item waits for the next sync. */
const WAIT_FOR_SYNC = 'SYNC_ERR_RECORD_NOT_SYNCED';

export class UploadQueue {
  private state: UploadQueueState = { queue: [], failed: [], done: [] };
  private loaded = false;
  private running: Promise<void> | undefined;
  private abort = new AbortController();
  private putAttempts = 0;
  private bytesSent = 0;
  private readonly maxAttempts: number;
  private readonly backoffBaseMs: number;
  private saving: Promise<void> = Promise.resolve();

  constructor(private readonly opts: UploadQueueOptions) {
    this.maxAttempts = opts.maxAttempts ?? 3;
    this.backoffBaseMs = opts.backoffBaseMs ?? 1000;
  }

  /** Restores the persisted queue (after a restart or app kill). */
  async load(): Promise<void> {
    const s = await this.opts.storage.load();
    if (s) this.state = { queue: s.queue ?? [], failed: s.failed ?? [], done: s.done ?? [] };
    this.loaded = true;
  }

  private persist(): Promise<void> {
    // Serialised: two saves must never interleave their writes.
    const snapshot = JSON.parse(JSON.stringify(this.state)) as UploadQueueState;
    this.saving = this.saving.then(() => this.opts.storage.save(snapshot));
    return this.saving;
  }

  /** Queues a file for a record; resolves once it is persisted (not uploaded). */
  async enqueue(file: {
    bytes: Uint8Array;
    fileName: string;
    contentType: string;
    tableName: string;
    recordId: string;
  }): Promise<UploadItem> {
    if (!this.loaded) await this.load();
    const sha256 = await this.opts.sha256(file.bytes);
    const id = `${file.tableName}:${file.recordId}:${sha256}`;
    const existing = this.state.queue.find((i) => i.id === id) ?? this.state.failed.find((i) => i.id === id);
    if (existing) return existing;
    const item: UploadItem = {
      id,
      tableName: file.tableName,
      recordId: file.recordId,
      fileName: file.fileName,
      contentType: file.contentType,
      size: file.bytes.byteLength,
      sha256,
      retryCount: 0,
      enqueuedAt: this.opts.now(),
    };
    if (this.state.done.some((d) => d.id === id)) return item;
    await this.opts.storage.writeBlob(id, file.bytes);
    this.state.queue.push(item);
    await this.persist();
    return item;
  }

  /** Works the queue until it is empty (or stop()); concurrent callers share one run. */
  process(): Promise<void> {
    if (!this.running) {
      this.running = this.run().finally(() => {
        this.running = undefined;
      });
    }
    return this.running;
  }

  /** Stops at once, as an app kill would: the in-flight PUT is aborted, the persisted queue stays. */
  stop(): void {
    this.abort.abort(new Error('upload queue stopped'));
  }

  /** Puts failed items back in the queue (a user's "retry" button). */
  async retryFailed(): Promise<number> {
    const n = this.state.failed.length;
    for (const i of this.state.failed.splice(0)) {
      i.retryCount = 0;
      delete i.failedAt;
      this.state.queue.push(i);
    }
    await this.persist();
    return n;
  }

  status(): UploadQueueStatus {
    return {
      pending: this.state.queue.length,
      failed: this.state.failed.map((i) => ({ ...i })),
      done: this.state.done.length,
      putAttempts: this.putAttempts,
      bytesSent: this.bytesSent,
    };
  }

  get completed(): UploadQueueState['done'] {
    return this.state.done.map((d) => ({ ...d }));
  }

  private async run(): Promise<void> {
    if (!this.loaded) await this.load();
    if (this.abort.signal.aborted) this.abort = new AbortController();
    const signal = this.abort.signal;
    // A new run comes after a sync (or a new file): items waiting for their record may complete now.
    for (const i of this.state.queue) delete i.awaitingSync;
    while (this.state.queue.length > 0 && !signal.aborted) {
      const item = this.state.queue[0]!;
      if (item.awaitingSync) return; // every item left waits for a sync
      try {
        await this.uploadOnce(item, signal);
        this.state.queue.shift();
        this.state.done.push({
          id: item.id,
          fileKey: item.fileKey!,
          recordId: item.recordId,
          sha256: item.sha256,
          attempts: item.retryCount + 1,
        });
        await this.persist();
        await this.opts.storage.deleteBlob(item.id);
      } catch (e) {
        if (signal.aborted) return;
        const err = e as UploadError;
        if (err.code === WAIT_FOR_SYNC) {
          item.awaitingSync = true;
          this.state.queue.push(this.state.queue.shift()!);
          await this.persist();
          continue;
        }
        item.retryCount++;
        item.lastError = err.message;
        item.lastStatus = err.status;
        const permanent = err.permanent || (err.status !== undefined && PERMANENT_STATUSES.has(err.status));
        this.opts.log?.(
          `upload ${item.fileName} → ${item.recordId}: attempt ${item.retryCount} failed (${err.message})${permanent ? ', not retryable' : ''}`,
        );
        if (permanent || item.retryCount >= this.maxAttempts) {
          item.failedAt = this.opts.now();
          this.state.queue.shift();
          this.state.failed.push(item);
          await this.persist();
        } else {
          await this.persist();
          await this.opts.sleep(2 ** item.retryCount * this.backoffBaseMs, signal).catch(() => {});
        }
      }
    }
  }

  private async uploadOnce(item: UploadItem, signal: AbortSignal): Promise<void> {
    const bytes = await this.opts.storage.readBlob(item.id);
    if (!bytes)
      throw new UploadError(`the queued file for ${item.recordId} is gone from local storage`, undefined, true);
    if (item.putDone && item.fileKey) {
      await this.finish(item);
      return;
    }
    const presigned = await this.opts.api.uploadUrl({
      fileName: item.fileName,
      contentType: item.contentType,
      size: item.size,
      sha256: item.sha256,
    });
    item.fileKey = presigned.fileKey;
    this.putAttempts++;
    this.opts.log?.(`upload ${item.fileName}: PUT ${item.size} bytes to ${new URL(presigned.uploadUrl).host}`);
    let sent = 0;
    const res = await this.opts.transport.put(
      presigned.uploadUrl,
      bytes,
      { 'content-type': item.contentType },
      (s, total) => {
        this.bytesSent += s - sent;
        sent = s;
        this.opts.onProgress?.(item, s, total);
      },
      signal,
    );
    if (res.status < 200 || res.status >= 300) {
      // The store's own errors (expired URL, signature) are worth another presign; S3 says 403.
      throw new UploadError(
        `PUT → ${res.status}: ${res.body.slice(0, 200)}`,
        res.status === 403 ? undefined : res.status,
      );
    }
    item.putDone = true;
    await this.persist();
    await this.finish(item);
  }

  private async finish(item: UploadItem): Promise<void> {
    try {
      const done = await this.opts.api.complete({
        fileKey: item.fileKey!,
        recordId: item.recordId,
        tableName: item.tableName,
      });
      await this.opts.onCompleted?.(item, done);
    } catch (e) {
      // The object is gone or never landed (expired store, lost PUT): upload it again next time.
      if ((e as UploadError).code === 'SYNC_ERR_UPLOAD_INCOMPLETE') item.putDone = false;
      throw e;
    }
  }
}

/** The queue's state as results.json reports it. */
export function summarizeUploads(s: UploadQueueStatus | undefined): UploadSummary | undefined {
  if (!s || (s.pending === 0 && s.done === 0 && s.failed.length === 0)) return undefined;
  return {
    pending: s.pending,
    done: s.done,
    failed: s.failed.map((i) => ({
      recordId: i.recordId,
      fileName: i.fileName,
      sha256: i.sha256,
      attempts: i.retryCount,
      reason: i.lastError ?? 'unknown',
      ...(i.lastStatus !== undefined ? { status: i.lastStatus } : {}),
    })),
    putAttempts: s.putAttempts,
    bytesSent: s.bytesSent,
  };
}
