/**
 * An in-process S3-compatible object store: the subset the sync stack uses (path-style buckets;
 * PUT, GET, HEAD, DELETE object; ListObjectsV2; CreateBucket), every request SigV4-verified
 * (sigv4.ts), presigned URLs honouring X-Amz-Expires. Objects live in memory: FIT files are small
 * (a 6-hour ride is ~0.7 MB) and a run's store is thrown away with the run.
 *
 * It checks what real S3 checks on a PUT: the signature (so a URL signed for one key or content
 * type cannot write another), the expiry, Content-Length against the body, a signed
 * x-amz-content-sha256, and an x-amz-checksum-sha256 when one is sent.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type Credentials, sha256Hex, UNSIGNED_PAYLOAD, verifySigV4 } from './sigv4';

export interface StoredObject {
  bytes: Buffer;
  contentType: string;
  etag: string;
  lastModified: Date;
  /** How many PUTs wrote this key (an upload retried after a lost response writes it twice). */
  writes: number;
}

export interface EmbeddedObjectStoreOptions {
  host?: string;
  port?: number;
  region?: string;
  credentials?: Credentials;
  /** Buckets created at start. */
  buckets?: string[];
  /** Largest object accepted (bytes); default 64 MB. */
  maxObjectBytes?: number;
  /** The store's clock for expiry checks (ms); default Date.now. */
  now?: () => number;
}

export interface ObjectStoreStats {
  puts: number;
  rejected: number;
  bytesIn: number;
  objects: number;
}

const xmlEscape = (s: string) => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

export class EmbeddedObjectStore {
  readonly region: string;
  readonly credentials: Credentials;
  private readonly buckets = new Map<string, Map<string, StoredObject>>();
  private server: Server | undefined;
  private readonly counters = { puts: 0, rejected: 0, bytesIn: 0 };
  private readonly maxObjectBytes: number;
  private readonly now: () => number;
  url = '';
  port = 0;

  constructor(private readonly opts: EmbeddedObjectStoreOptions = {}) {
    this.region = opts.region ?? 'us-east-1';
    this.credentials = opts.credentials ?? { accessKeyId: 'harness', secretAccessKey: 'harness-secret-key' };
    this.maxObjectBytes = opts.maxObjectBytes ?? 64 * 1024 * 1024;
    this.now = opts.now ?? Date.now;
    for (const b of opts.buckets ?? []) this.buckets.set(b, new Map());
  }

  async start(): Promise<this> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((e) => this.error(res, 500, 'InternalError', String(e)));
    });
    server.keepAliveTimeout = 5000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port ?? 0, this.opts.host ?? '127.0.0.1', () => resolve());
    });
    const addr = server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : 0;
    this.url = `http://${this.opts.host ?? '127.0.0.1'}:${this.port}`;
    this.server = server;
    return this;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** Objects of a bucket (for checkers: "every file arrived exactly once"). */
  list(bucket: string): Array<{ key: string } & StoredObject> {
    return [...(this.buckets.get(bucket) ?? new Map<string, StoredObject>()).entries()].map(([key, o]) => ({
      key,
      ...o,
    }));
  }

  get(bucket: string, key: string): StoredObject | undefined {
    return this.buckets.get(bucket)?.get(key);
  }

  stats(): ObjectStoreStats {
    let objects = 0;
    for (const b of this.buckets.values()) objects += b.size;
    return { ...this.counters, objects };
  }

  private error(res: ServerResponse, status: number, code: string, message: string, resource = ''): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message><Resource>${xmlEscape(resource)}</Resource></Error>`;
    res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  private async readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
    const chunks: Buffer[] = [];
    let n = 0;
    for await (const c of req) {
      n += (c as Buffer).length;
      if (n > limit) return 'too-large';
      chunks.push(c as Buffer);
    }
    return Buffer.concat(chunks);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // An absolute-form target (a forward proxy's request line) names the same path.
    let target = req.url ?? '/';
    if (/^https?:\/\//i.test(target)) {
      const u = new URL(target);
      target = u.pathname + u.search;
    }
    const method = req.method ?? 'GET';
    const auth = verifySigV4(
      { method, url: target, headers: req.headers },
      (k) => (k === this.credentials.accessKeyId ? this.credentials.secretAccessKey : undefined),
      { region: this.region, now: this.now() },
    );
    const qi = target.indexOf('?');
    const path = qi < 0 ? target : target.slice(0, qi);
    const params = new URLSearchParams(qi < 0 ? '' : target.slice(qi + 1));
    const [, bucketRaw = '', ...keyParts] = path.split('/');
    const bucket = decodeURIComponent(bucketRaw);
    const key = keyParts.map((p) => decodeURIComponent(p)).join('/');
    if (!auth.ok) {
      if (method === 'PUT') this.counters.rejected++;
      // Drain the body so the client sees the error instead of a reset.
      req.resume();
      return this.error(res, auth.status, auth.code, auth.message, path);
    }
    if (!bucket) return this.error(res, 400, 'InvalidRequest', 'path-style requests only: /<bucket>/<key>', path);
    const objects = this.buckets.get(bucket);

    if (!key) {
      if (method === 'PUT') {
        if (!this.buckets.has(bucket)) this.buckets.set(bucket, new Map());
        req.resume();
        res.writeHead(200, { location: `/${bucket}` }).end();
        return;
      }
      if (!objects) return this.error(res, 404, 'NoSuchBucket', 'The specified bucket does not exist', path);
      if (method === 'HEAD') return void res.writeHead(200).end();
      if (method === 'GET') return this.listV2(res, bucket, objects, params);
      return this.error(res, 405, 'MethodNotAllowed', `${method} on a bucket is not supported here`, path);
    }
    if (!objects) {
      req.resume();
      return this.error(res, 404, 'NoSuchBucket', 'The specified bucket does not exist', path);
    }

    switch (method) {
      case 'PUT': {
        const declared = req.headers['content-length'];
        if (declared === undefined) {
          req.resume();
          this.counters.rejected++;
          return this.error(res, 411, 'MissingContentLength', 'You must provide the Content-Length HTTP header.', path);
        }
        const body = await this.readBody(req, this.maxObjectBytes);
        if (body === 'too-large') {
          this.counters.rejected++;
          return this.error(
            res,
            400,
            'EntityTooLarge',
            `Your proposed upload exceeds ${this.maxObjectBytes} bytes`,
            path,
          );
        }
        if (body.length !== Number(declared)) {
          this.counters.rejected++;
          return this.error(
            res,
            400,
            'IncompleteBody',
            'You did not provide the number of bytes specified by the Content-Length HTTP header',
            path,
          );
        }
        if (auth.payloadHash !== UNSIGNED_PAYLOAD && auth.payloadHash !== sha256Hex(body)) {
          this.counters.rejected++;
          return this.error(
            res,
            400,
            'XAmzContentSHA256Mismatch',
            'The provided x-amz-content-sha256 header does not match what was computed.',
            path,
          );
        }
        const sum = req.headers['x-amz-checksum-sha256'];
        if (typeof sum === 'string' && sum !== createHash('sha256').update(body).digest('base64')) {
          this.counters.rejected++;
          return this.error(
            res,
            400,
            'BadDigest',
            'The SHA256 you specified did not match the calculated checksum.',
            path,
          );
        }
        const etag = `"${createHash('md5').update(body).digest('hex')}"`;
        const prev = objects.get(key);
        objects.set(key, {
          bytes: body,
          contentType: String(req.headers['content-type'] ?? 'binary/octet-stream'),
          etag,
          lastModified: new Date(this.now()),
          writes: (prev?.writes ?? 0) + 1,
        });
        this.counters.puts++;
        this.counters.bytesIn += body.length;
        res.writeHead(200, { etag }).end();
        return;
      }
      case 'GET':
      case 'HEAD': {
        const o = objects.get(key);
        if (!o) {
          if (method === 'HEAD') return void res.writeHead(404).end();
          return this.error(res, 404, 'NoSuchKey', 'The specified key does not exist.', path);
        }
        res.writeHead(200, {
          'content-type': o.contentType,
          'content-length': o.bytes.length,
          etag: o.etag,
          'last-modified': o.lastModified.toUTCString(),
        });
        res.end(method === 'GET' ? o.bytes : undefined);
        return;
      }
      case 'DELETE':
        objects.delete(key);
        res.writeHead(204).end();
        return;
      default:
        req.resume();
        return this.error(res, 405, 'MethodNotAllowed', `${method} is not supported here`, path);
    }
  }

  private listV2(res: ServerResponse, bucket: string, objects: Map<string, StoredObject>, params: URLSearchParams) {
    const prefix = params.get('prefix') ?? '';
    const keys = [...objects.keys()].filter((k) => k.startsWith(prefix)).sort();
    const max = Math.min(1000, Number(params.get('max-keys') ?? 1000));
    const after = params.get('continuation-token') ?? params.get('start-after') ?? '';
    const page = keys.filter((k) => k > after).slice(0, max);
    const truncated = keys.filter((k) => k > after).length > page.length;
    const contents = page
      .map((k) => {
        const o = objects.get(k)!;
        return `<Contents><Key>${xmlEscape(k)}</Key><LastModified>${o.lastModified.toISOString()}</LastModified><ETag>${xmlEscape(o.etag)}</ETag><Size>${o.bytes.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`;
      })
      .join('');
    const body = `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${xmlEscape(bucket)}</Name><Prefix>${xmlEscape(prefix)}</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>${max}</MaxKeys><IsTruncated>${truncated}</IsTruncated>${truncated ? `<NextContinuationToken>${xmlEscape(page.at(-1)!)}</NextContinuationToken>` : ''}${contents}</ListBucketResult>`;
    res.writeHead(200, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }
}
