/**
 * The upload queue as a Node device wires it (phone, and the phone end of the watch chain): its
 * storage in the device's data folder, its API calls through the device's own proxy, its backoff
 * on the device's clock. One function, so no device kind copies the wiring.
 */
import { join } from 'node:path';
import type { DeviceContext } from '../../protocol/device';
import { SyncHttpClient } from './sync-http';
import { FileUploadStorage, filesApiOf, nodeHttpTransport, nodeSha256 } from './upload-node';
import { UploadQueue, type UploadQueueOptions } from './upload-queue';

export function createDeviceUploads(
  ctx: DeviceContext,
  opts: Pick<UploadQueueOptions, 'onCompleted' | 'onProgress' | 'maxAttempts' | 'backoffBaseMs'> & {
    schemaVersion: 1 | 2;
    requestTimeoutMs?: number;
  },
): UploadQueue {
  const client = new SyncHttpClient({
    baseUrl: ctx.serverUrl,
    deviceId: ctx.deviceId,
    schemaVersion: opts.schemaVersion,
    getToken: () => ctx.getToken(),
    timeoutMs: opts.requestTimeoutMs ?? 30_000,
  });
  return new UploadQueue({
    storage: new FileUploadStorage(join(ctx.dataDir, 'uploads')),
    transport: nodeHttpTransport(opts.requestTimeoutMs ?? 120_000),
    api: filesApiOf(client),
    sha256: nodeSha256,
    sleep: (ms, signal) => ctx.clock.sleep(ms, signal),
    now: () => ctx.clock.now(),
    log: (l) => ctx.log(l),
    onCompleted: opts.onCompleted,
    onProgress: opts.onProgress,
    maxAttempts: opts.maxAttempts,
    backoffBaseMs: opts.backoffBaseMs,
  });
}
