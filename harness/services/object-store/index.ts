/**
 * Object store provider (architecture.md "Services"): embedded | container | url | auto, like the
 * PostgreSQL and Toxiproxy providers. Every mode resolves to an S3 endpoint, a bucket and
 * credentials, plus stop(); each prints one line saying which mode it picked and why.
 *
 * - embedded: the in-process S3-compatible store (embedded.ts), SigV4 and presigned-URL expiry checked.
 * - container: MinIO through testcontainers; without a container runtime it fails fast naming the
 *   probe's reason (auto falls back to embedded instead).
 * - url: any S3 endpoint. `http://KEY:SECRET@host:9000/bucket?region=eu-west-1`; key, secret and
 *   region may come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION instead.
 */
import { createHash } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { HarnessError } from '../../config/errors';
import { containerRuntimeAvailable } from '../container-runtime';
import { EmbeddedObjectStore } from './embedded';

export { EmbeddedObjectStore } from './embedded';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export type ObjectStoreMode = 'embedded' | 'container' | 'url' | 'auto';
export const DEFAULT_BUCKET = 'activity-files';
export const MINIO_IMAGE = 'minio/minio:RELEASE.2025-04-22T22-12-26Z';

export interface ResolvedObjectStore {
  mode: Exclude<ObjectStoreMode, 'auto'>;
  /** S3 endpoint as this host reaches it. */
  endpoint: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  reason: string;
  /** The in-process store (embedded mode), for checkers that inspect objects directly. */
  embedded?: EmbeddedObjectStore;
  stop(): Promise<void>;
}

export interface ResolveObjectStoreOptions {
  url?: string;
  bucket?: string;
  log?: (line: string) => void;
}

/** The SDK is imported on first use: runs that upload nothing never pay for loading it. */
async function s3(endpoint: string, region: string, accessKeyId: string, secretAccessKey: string): Promise<S3Client> {
  const { S3Client } = await import('@aws-sdk/client-s3');
  return new S3Client({
    endpoint,
    region,
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 1,
  });
}

/** Creates the bucket when it is missing; a clear error when the endpoint or credentials are wrong. */
async function ensureBucket(r: Omit<ResolvedObjectStore, 'stop' | 'reason' | 'mode'>, modeName: string) {
  const { CreateBucketCommand, HeadBucketCommand } = await import('@aws-sdk/client-s3');
  const c = await s3(r.endpoint, r.region, r.accessKeyId, r.secretAccessKey);
  try {
    try {
      await c.send(new HeadBucketCommand({ Bucket: r.bucket }));
    } catch (e) {
      const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status !== 404) throw e;
      await c.send(new CreateBucketCommand({ Bucket: r.bucket }));
    }
  } catch (e) {
    const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    throw new HarnessError(
      'HRN_ERR_SERVICE',
      `object store (${modeName}) at ${r.endpoint}: bucket "${r.bucket}" is not usable (${msg})`,
      'Check the endpoint, the credentials (URL user:password or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) and the bucket name.',
    );
  } finally {
    c.destroy();
  }
}

async function startEmbedded(reason: string, bucket: string): Promise<ResolvedObjectStore> {
  const store = await new EmbeddedObjectStore({ buckets: [bucket] }).start();
  return {
    mode: 'embedded',
    endpoint: store.url,
    bucket,
    region: store.region,
    ...store.credentials,
    reason,
    embedded: store,
    stop: () => store.stop(),
  };
}

async function startContainer(reason: string, bucket: string): Promise<ResolvedObjectStore> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const user = 'harness';
  const password = 'harness-secret-key';
  const container = await new GenericContainer(MINIO_IMAGE)
    .withCommand(['server', '/data'])
    .withEnvironment({ MINIO_ROOT_USER: user, MINIO_ROOT_PASSWORD: password })
    .withExposedPorts(9000)
    .withWaitStrategy(Wait.forHttp('/minio/health/live', 9000))
    .start();
  const r = {
    endpoint: `http://${container.getHost()}:${container.getMappedPort(9000)}`,
    bucket,
    region: 'us-east-1',
    accessKeyId: user,
    secretAccessKey: password,
  };
  await ensureBucket(r, 'container');
  return { mode: 'container', ...r, reason, stop: async () => void (await container.stop()) };
}

function fromUrl(
  raw: string | undefined,
  bucketDefault: string,
): Omit<ResolvedObjectStore, 'stop' | 'reason' | 'mode'> {
  if (!raw)
    throw new HarnessError(
      'HRN_ERR_CONFIG',
      "services.objectStore.mode is 'url' but no URL was given",
      'Set services.objectStore.url, e.g. http://KEY:SECRET@127.0.0.1:9000/activity-files, or use embedded/auto.',
    );
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new HarnessError(
      'HRN_ERR_CONFIG',
      `services.objectStore.url ${JSON.stringify(raw)} is not a URL`,
      'Use http(s)://KEY:SECRET@host:port/bucket.',
    );
  }
  const accessKeyId = decodeURIComponent(u.username) || process.env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = decodeURIComponent(u.password) || process.env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey)
    throw new HarnessError(
      'HRN_ERR_CONFIG',
      'services.objectStore.url has no credentials',
      'Put them in the URL (http://KEY:SECRET@host/bucket) or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.',
    );
  const bucket = u.pathname.replace(/^\/+|\/+$/g, '') || bucketDefault;
  return {
    endpoint: `${u.protocol}//${u.host}`,
    bucket,
    region: u.searchParams.get('region') ?? process.env.AWS_REGION ?? 'us-east-1',
    accessKeyId,
    secretAccessKey,
  };
}

export async function resolveObjectStore(
  mode: ObjectStoreMode,
  opts: ResolveObjectStoreOptions = {},
): Promise<ResolvedObjectStore> {
  const log = opts.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const bucket = opts.bucket ?? DEFAULT_BUCKET;
  let result: ResolvedObjectStore;
  switch (mode) {
    case 'embedded':
      result = await startEmbedded('embedded was requested', bucket);
      break;
    case 'url': {
      const r = fromUrl(opts.url, bucket);
      await ensureBucket(r, 'url');
      result = { mode: 'url', ...r, reason: 'the endpoint answers and the bucket is there', stop: async () => {} };
      break;
    }
    case 'container': {
      const rt = await containerRuntimeAvailable();
      if (!rt.ok)
        throw new HarnessError(
          'HRN_ERR_SERVICE',
          `services.objectStore.mode = 'container' needs a container runtime (Docker/Podman) for MinIO, and none answers: ${rt.why}`,
          "Use 'embedded' (no Docker needed), 'auto', or 'url' with an S3 endpoint.",
        );
      result = await startContainer(`container was requested and ${rt.why}`, bucket);
      break;
    }
    case 'auto': {
      const rt = await containerRuntimeAvailable();
      result = rt.ok
        ? await startContainer(`auto: ${rt.why}`, bucket)
        : await startEmbedded(`auto: no container runtime (${rt.why})`, bucket);
      break;
    }
    default:
      throw new HarnessError(
        'HRN_ERR_CONFIG',
        `unknown object store mode ${JSON.stringify(mode)}`,
        'Use embedded, container, url or auto.',
      );
  }
  log(`object store: ${result.mode} at ${result.endpoint}, bucket ${result.bucket} (${result.reason})`);
  return result;
}

export interface StoredObjectInfo {
  key: string;
  size: number;
  sha256: string;
  /** PUTs that wrote this key (embedded store only; undefined elsewhere). */
  writes?: number;
}

/**
 * What a scenario may read from the store: every object with its size and sha256. One store serves
 * every scenario of a run, so a scenario's view leaves out what was there before it began
 * (`scopedObjectStoreView`).
 */
export interface ObjectStoreView {
  readonly mode: ResolvedObjectStore['mode'];
  readonly bucket: string;
  list(prefix?: string): Promise<StoredObjectInfo[]>;
}

export function objectStoreView(r: ResolvedObjectStore): ObjectStoreView {
  const hash = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
  return {
    mode: r.mode,
    bucket: r.bucket,
    async list(prefix = '') {
      if (r.embedded) {
        return r.embedded
          .list(r.bucket)
          .filter((o) => o.key.startsWith(prefix))
          .map((o) => ({ key: o.key, size: o.bytes.length, sha256: hash(o.bytes), writes: o.writes }));
      }
      const { GetObjectCommand, ListObjectsV2Command } = await import('@aws-sdk/client-s3');
      const c = await s3(r.endpoint, r.region, r.accessKeyId, r.secretAccessKey);
      try {
        const out: StoredObjectInfo[] = [];
        let token: string | undefined;
        do {
          const page = await c.send(
            new ListObjectsV2Command({ Bucket: r.bucket, Prefix: prefix, ContinuationToken: token }),
          );
          for (const o of page.Contents ?? []) {
            const got = await c.send(new GetObjectCommand({ Bucket: r.bucket, Key: o.Key! }));
            const bytes = await got.Body!.transformToByteArray();
            out.push({ key: o.Key!, size: bytes.length, sha256: hash(bytes) });
          }
          token = page.IsTruncated ? page.NextContinuationToken : undefined;
        } while (token);
        return out;
      } finally {
        c.destroy();
      }
    },
  };
}

/**
 * The view of one scenario: objects written since `before` was listed. A key that was there and was
 * written again shows with the PUTs since (embedded store), or when its content changed (elsewhere).
 */
export async function scopedObjectStoreView(r: ResolvedObjectStore): Promise<ObjectStoreView> {
  const all = objectStoreView(r);
  const before = new Map((await all.list()).map((o) => [o.key, o]));
  return {
    ...all,
    async list(prefix = '') {
      const out: StoredObjectInfo[] = [];
      for (const o of await all.list(prefix)) {
        const was = before.get(o.key);
        if (!was) out.push(o);
        else if (o.writes !== undefined && was.writes !== undefined && o.writes > was.writes)
          out.push({ ...o, writes: o.writes - was.writes });
        else if (o.writes === undefined && o.sha256 !== was.sha256) out.push(o);
      }
      return out;
    },
  };
}

/** What the sync server needs of a resolved store (its `objectStore` option). */
export function serverObjectStoreConfig(r: ResolvedObjectStore) {
  return {
    endpoint: r.endpoint,
    bucket: r.bucket,
    region: r.region,
    accessKeyId: r.accessKeyId,
    secretAccessKey: r.secretAccessKey,
  };
}
