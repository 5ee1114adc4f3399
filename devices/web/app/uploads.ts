/**
 * The web client's upload queue: the shared queue of devices/common/upload-queue.ts (the phone's
 * code, not a copy) on browser adapters. Its files API goes through the app's own SyncHttpClient
 * (its token, /api on its app server, so the device's proxy and its faults); its PUT goes through
 * the app server's same-origin relay to the presigned URL, which points at the device's own
 * object-store proxy, so bandwidth limits and resets hit the upload as they hit the phone's.
 */
import type { CompleteResponse } from '../../../protocol/files';
import type { SyncHttpClient } from '../../common/sync-http';
import { filesApiOf } from '../../common/upload-api';
import { browserSha256, IndexedDbUploadStorage, scaledSleep, xhrTransport } from '../../common/upload-browser';
import { type UploadItem, UploadQueue } from '../../common/upload-queue';
import type { AppConfig } from './engine';

/** Same-origin relay of the app server (app-server.ts): the store has no CORS for the page's origin. */
export const UPLOAD_RELAY = '/harness/upload';

export function createWebUploads(
  cfg: AppConfig,
  http: SyncHttpClient,
  hooks: {
    onCompleted(item: UploadItem, res: CompleteResponse): Promise<void>;
    /** After every persisted change of the queue and on upload progress. */
    onChange(): void;
    clockOffsetMs(): number;
  },
): UploadQueue {
  const storage = new IndexedDbUploadStorage('sync-harness-uploads');
  return new UploadQueue({
    storage: {
      load: () => storage.load(),
      save: async (s) => {
        await storage.save(s);
        hooks.onChange();
      },
      writeBlob: (id, b) => storage.writeBlob(id, b),
      readBlob: (id) => storage.readBlob(id),
      deleteBlob: (id) => storage.deleteBlob(id),
    },
    transport: xhrTransport({ route: (url) => `${UPLOAD_RELAY}?to=${encodeURIComponent(url)}` }),
    api: filesApiOf(http),
    sha256: browserSha256,
    sleep: scaledSleep(cfg.timeScale),
    now: () => Date.now() + hooks.clockOffsetMs(),
    onCompleted: hooks.onCompleted,
    onProgress: () => hooks.onChange(),
    log: (l) => console.info(l),
  });
}
