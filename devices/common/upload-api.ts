/**
 * The upload queue's files API (POST /files/upload-url, /files/complete) on a device's own
 * SyncHttpClient: its token, its base URL (the device's proxy), its timeouts. Isomorphic: the phone
 * uses it in Node, the web client in its browser bundle.
 */
import { type SyncHttpClient, SyncHttpError } from './sync-http';
import { type FilesApi, UploadError } from './upload-queue';

/** The upload queue's API on the device's sync client; HTTP failures keep their status. */
export function filesApiOf(client: SyncHttpClient): FilesApi {
  const wrap = async <T>(fn: () => Promise<{ body: T }>): Promise<T> => {
    try {
      return (await fn()).body;
    } catch (e) {
      if (e instanceof SyncHttpError)
        throw new UploadError(e.message, e.kind === 'http' ? e.status : undefined, false, e.code);
      throw e;
    }
  };
  return {
    uploadUrl: (req) => wrap(() => client.uploadUrl(req)),
    complete: (req) => wrap(() => client.completeUpload(req)),
  };
}
