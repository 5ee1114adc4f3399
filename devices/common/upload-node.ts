/**
 * Node adapters of the upload queue: storage in the device's data folder (survives app kill and
 * restart: the runner keeps dataDir), a PUT over node:http that reports progress per chunk, and the
 * files API on the device's SyncHttpClient.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import {
  type PutResult,
  UploadError,
  type UploadQueueState,
  type UploadQueueStorage,
  type UploadTransport,
} from './upload-queue';

export class FileUploadStorage implements UploadQueueStorage {
  constructor(private readonly dir: string) {}

  private blobPath(id: string) {
    return join(this.dir, 'blobs', createHash('sha256').update(id).digest('hex').slice(0, 32));
  }

  private async atomicWrite(path: string, data: string | Uint8Array) {
    await mkdir(join(path, '..'), { recursive: true });
    const tmp = `${path}.tmp-${process.pid}`;
    await writeFile(tmp, data);
    await rename(tmp, path);
  }

  async load(): Promise<UploadQueueState | undefined> {
    try {
      return JSON.parse(await readFile(join(this.dir, 'queue.json'), 'utf8')) as UploadQueueState;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }
  save(state: UploadQueueState) {
    return this.atomicWrite(join(this.dir, 'queue.json'), JSON.stringify(state));
  }
  writeBlob(id: string, bytes: Uint8Array) {
    return this.atomicWrite(this.blobPath(id), bytes);
  }
  async readBlob(id: string) {
    try {
      return new Uint8Array(await readFile(this.blobPath(id)));
    } catch {
      return undefined;
    }
  }
  async deleteBlob(id: string) {
    await rm(this.blobPath(id), { force: true });
  }
}

const CHUNK = 16 * 1024;

/** PUT with Content-Length and progress per 16 KB written; a fresh connection per upload. */
export const nodeHttpTransport = (timeoutMs = 120_000): UploadTransport => ({
  put(url, bytes, headers, onProgress, signal) {
    return new Promise<PutResult>((resolve, reject) => {
      const u = new URL(url);
      const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(
        u,
        {
          method: 'PUT',
          headers: { ...headers, 'content-length': String(bytes.byteLength) },
          agent: false,
          signal,
          timeout: timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`PUT timed out after ${timeoutMs} ms`)));
      req.on('error', (e) => reject(new UploadError(`PUT failed: ${e.message}`)));
      let off = 0;
      const writeNext = () => {
        while (off < bytes.byteLength) {
          const end = Math.min(off + CHUNK, bytes.byteLength);
          const ok = req.write(bytes.subarray(off, end));
          off = end;
          onProgress(off, bytes.byteLength);
          if (!ok) {
            req.once('drain', writeNext);
            return;
          }
        }
        req.end();
      };
      writeNext();
    });
  },
});

// The files API is isomorphic (the web client's bundle uses it too).
export { filesApiOf } from './upload-api';

export const nodeSha256 = async (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
