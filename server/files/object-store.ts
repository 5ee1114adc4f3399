/**
 * The server's view of the object store: presigned PUT URLs (@aws-sdk/s3-request-presigner) and
 * reading an uploaded object back to verify it. Any S3-compatible endpoint works (the harness's
 * embedded store, MinIO, S3).
 *
 * `publicEndpointFor(deviceId)` lets a deployment hand each device the address it reaches the store
 * at; the harness uses it to route each device's uploads through that device's own fault proxy. The
 * URL is signed for that host, so the signature still covers exactly what the device sends.
 */
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

// The SDK warns at client construction that releases after January 2027 need Node 22; this project
// supports Node 20 (package.json engines), so the warning is noise in every run log.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export interface ObjectStoreConfig {
  /** S3 endpoint the server itself uses, e.g. http://127.0.0.1:9000 */
  endpoint: string;
  bucket: string;
  region?: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Presigned URL lifetime, seconds (default 900). */
  expiresInSeconds?: number;
  /** Endpoint a given device uploads to (its proxy); default `endpoint`. */
  publicEndpointFor?: (deviceId: string) => string | undefined;
}

export class ObjectStoreClient {
  private readonly clients = new Map<string, S3Client>();
  readonly bucket: string;
  readonly expiresInSeconds: number;

  constructor(private readonly cfg: ObjectStoreConfig) {
    this.bucket = cfg.bucket;
    this.expiresInSeconds = cfg.expiresInSeconds ?? 900;
  }

  private client(endpoint: string): S3Client {
    let c = this.clients.get(endpoint);
    if (!c) {
      c = new S3Client({
        endpoint,
        region: this.cfg.region ?? 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: this.cfg.accessKeyId, secretAccessKey: this.cfg.secretAccessKey },
        // No SDK-added CRC32 headers in presigned URLs: devices send exactly the headers we sign.
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
        maxAttempts: 2,
      });
      this.clients.set(endpoint, c);
    }
    return c;
  }

  /** A PUT URL bound to this key, content type and exact size (both are signed headers). */
  async presignPut(
    key: string,
    contentType: string,
    size: number,
    deviceId: string,
  ): Promise<{ uploadUrl: string; expiresAt: number }> {
    const endpoint = this.cfg.publicEndpointFor?.(deviceId) ?? this.cfg.endpoint;
    const signedAt = Date.now();
    const uploadUrl = await getSignedUrl(
      this.client(endpoint),
      new PutObjectCommand({ Bucket: this.bucket, Key: key, ContentType: contentType, ContentLength: size }),
      { expiresIn: this.expiresInSeconds, signableHeaders: new Set(['content-type', 'content-length']) },
    );
    // X-Amz-Date has whole seconds; expiry counts from it.
    return { uploadUrl, expiresAt: Math.floor(signedAt / 1000) * 1000 + this.expiresInSeconds * 1000 };
  }

  /** The object's bytes, or undefined when it is not there (never uploaded, or the PUT failed). */
  async get(key: string): Promise<Buffer | undefined> {
    try {
      const r = await this.client(this.cfg.endpoint).send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      const bytes = await r.Body!.transformToByteArray();
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } catch (e) {
      const name = (e as { name?: string }).name;
      const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (name === 'NoSuchKey' || status === 404) return undefined;
      throw e;
    }
  }

  close(): void {
    for (const c of this.clients.values()) c.destroy();
    this.clients.clear();
  }
}
