/**
 * Browser adapters of the upload queue (upload-queue.ts), beside the Node ones (upload-node.ts):
 * storage in IndexedDB (committed before enqueue() resolves, so a reload, a crashed tab or a killed
 * browser resumes from it), a PUT over XMLHttpRequest (fetch reports no upload progress), SHA-256
 * from WebCrypto and the backoff on the app's clock.
 */
import { Dexie, type Table } from 'dexie';
import {
  type PutResult,
  UploadError,
  type UploadQueueState,
  type UploadQueueStorage,
  type UploadTransport,
} from './upload-queue';

type UploadsDb = Dexie & {
  state: Table<{ key: string; value: UploadQueueState }, string>;
  blobs: Table<{ id: string; bytes: Uint8Array }, string>;
};

/** The queue and its files in their own IndexedDB database, apart from the synced tables. */
export class IndexedDbUploadStorage implements UploadQueueStorage {
  private readonly db: UploadsDb;

  constructor(name = 'uploads') {
    this.db = new Dexie(name) as UploadsDb;
    this.db.version(1).stores({ state: 'key', blobs: 'id' });
  }

  async load(): Promise<UploadQueueState | undefined> {
    return (await this.db.state.get('queue'))?.value;
  }
  async save(state: UploadQueueState): Promise<void> {
    await this.db.state.put({ key: 'queue', value: state });
  }
  async writeBlob(id: string, bytes: Uint8Array): Promise<void> {
    await this.db.blobs.put({ id, bytes });
  }
  async readBlob(id: string): Promise<Uint8Array | undefined> {
    return (await this.db.blobs.get(id))?.bytes;
  }
  async deleteBlob(id: string): Promise<void> {
    await this.db.blobs.delete(id);
  }
  close(): void {
    this.db.close();
  }
}

export interface XhrTransportOptions {
  timeoutMs?: number;
  /**
   * Where the PUT actually goes, from the presigned URL: a page that cannot reach the store
   * cross-origin (no CORS on the bucket) sends it through a same-origin relay.
   */
  route?(url: string): string;
}

/** PUT with XMLHttpRequest: its upload progress events are the bytes handed to the network. */
export const xhrTransport = (opts: XhrTransportOptions = {}): UploadTransport => ({
  put(url, bytes, headers, onProgress, signal) {
    const timeoutMs = opts.timeoutMs ?? 120_000;
    return new Promise<PutResult>((resolve, reject) => {
      if (signal.aborted) return reject(new UploadError('PUT aborted'));
      const xhr = new XMLHttpRequest();
      const onAbort = () => xhr.abort();
      signal.addEventListener('abort', onAbort, { once: true });
      xhr.open('PUT', opts.route ? opts.route(url) : url);
      for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
      xhr.timeout = timeoutMs;
      // Progress listeners must be on before send(), or the browser never reports them.
      xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : bytes.byteLength);
      xhr.onload = () => resolve({ status: xhr.status, body: xhr.responseText });
      xhr.onerror = () => reject(new UploadError('PUT failed: network error'));
      xhr.ontimeout = () => reject(new UploadError(`PUT timed out after ${timeoutMs} ms`));
      xhr.onabort = () => reject(new UploadError('PUT aborted'));
      xhr.onloadend = () => signal.removeEventListener('abort', onAbort);
      xhr.send(bytes as Uint8Array<ArrayBuffer>);
    });
  },
});

export async function browserSha256(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return Array.from(d, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** A backoff wait on an app clock that runs `timeScale` × faster than the wall; rejects on abort. */
export const scaledSleep =
  (timeScale: number) =>
  (ms: number, signal: AbortSignal): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const t = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms / Math.max(1e-6, timeScale));
      const onAbort = () => {
        clearTimeout(t);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
