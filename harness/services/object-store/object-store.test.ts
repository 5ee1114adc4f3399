/**
 * The object store provider's modes, and the embedded store speaking S3 to the real AWS SDK
 * (header-signed calls) as well as to presigned URLs.
 */
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { containerRuntimeAvailable } from '../container-runtime';
import { resolveObjectStore, scopedObjectStoreView } from './index';

describe('object store provider', () => {
  it('embedded: the AWS SDK can put, get and list through SigV4 header auth; a wrong secret is refused', async () => {
    const lines: string[] = [];
    const s = await resolveObjectStore('embedded', { log: (l) => lines.push(l) });
    try {
      expect(lines[0]).toMatch(/^object store: embedded at http:\/\/127\.0\.0\.1:\d+, bucket activity-files/);
      const client = (secret: string) =>
        new S3Client({
          endpoint: s.endpoint,
          region: s.region,
          forcePathStyle: true,
          credentials: { accessKeyId: s.accessKeyId, secretAccessKey: secret },
          requestChecksumCalculation: 'WHEN_REQUIRED',
          maxAttempts: 1,
        });
      const c = client(s.secretAccessKey);
      await c.send(new PutObjectCommand({ Bucket: s.bucket, Key: 'a/b c.fit', Body: Buffer.from('hello') }));
      const got = await c.send(new GetObjectCommand({ Bucket: s.bucket, Key: 'a/b c.fit' }));
      expect(await got.Body!.transformToString()).toBe('hello');
      const list = await c.send(new ListObjectsV2Command({ Bucket: s.bucket, Prefix: 'a/' }));
      expect(list.Contents?.map((o) => o.Key)).toEqual(['a/b c.fit']);
      const bad = client('wrong');
      await expect(bad.send(new GetObjectCommand({ Bucket: s.bucket, Key: 'a/b c.fit' }))).rejects.toMatchObject({
        name: 'SignatureDoesNotMatch',
      });
      c.destroy();
      bad.destroy();
    } finally {
      await s.stop();
    }
  });

  it("a scenario's view leaves out what earlier scenarios of the run stored, except what it writes again", async () => {
    const s = await resolveObjectStore('embedded', { log: () => {} });
    const c = new S3Client({
      endpoint: s.endpoint,
      region: s.region,
      forcePathStyle: true,
      credentials: { accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      maxAttempts: 1,
    });
    const put = (Key: string, body: string) =>
      c.send(new PutObjectCommand({ Bucket: s.bucket, Key, Body: Buffer.from(body) }));
    try {
      await put('earlier.fit', 'a');
      await put('again.fit', 'b');
      const view = await scopedObjectStoreView(s);
      expect(await view.list()).toEqual([]);
      await put('mine.fit', 'c');
      await put('again.fit', 'b');
      const seen = (await view.list()).map((o) => [o.key, o.writes]);
      expect(seen.sort()).toEqual([
        ['again.fit', 1],
        ['mine.fit', 1],
      ]);
    } finally {
      c.destroy();
      await s.stop();
    }
  });

  it('container: without a container runtime it fails fast and names the probe reason', async () => {
    const rt = await containerRuntimeAvailable(2000);
    if (rt.ok) return; // a machine with Docker starts MinIO instead; covered where Docker exists
    const t0 = performance.now();
    await expect(resolveObjectStore('container', { log: () => {} })).rejects.toMatchObject({
      code: 'HRN_ERR_SERVICE',
      message: expect.stringContaining('needs a container runtime'),
    });
    expect(performance.now() - t0).toBeLessThan(10_000);
  });

  it('auto falls back to embedded and says why', async () => {
    const rt = await containerRuntimeAvailable(2000);
    if (rt.ok) return;
    const lines: string[] = [];
    const s = await resolveObjectStore('auto', { log: (l) => lines.push(l) });
    await s.stop();
    expect(s.mode).toBe('embedded');
    expect(lines[0]).toContain('auto: no container runtime');
  });

  it('url: missing URL, missing credentials and a dead endpoint are clear errors', async () => {
    await expect(resolveObjectStore('url', { log: () => {} })).rejects.toMatchObject({ code: 'HRN_ERR_CONFIG' });
    const saved = [process.env.AWS_ACCESS_KEY_ID, process.env.AWS_SECRET_ACCESS_KEY];
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    try {
      await expect(resolveObjectStore('url', { url: 'http://127.0.0.1:1/b', log: () => {} })).rejects.toMatchObject({
        code: 'HRN_ERR_CONFIG',
        message: expect.stringContaining('no credentials'),
      });
    } finally {
      if (saved[0] !== undefined) process.env.AWS_ACCESS_KEY_ID = saved[0];
      if (saved[1] !== undefined) process.env.AWS_SECRET_ACCESS_KEY = saved[1];
    }
    await expect(resolveObjectStore('url', { url: 'http://k:s@127.0.0.1:1/b', log: () => {} })).rejects.toMatchObject({
      code: 'HRN_ERR_SERVICE',
      message: expect.stringContaining('not usable'),
    });
  });

  it('url: an embedded store reached by URL works like any S3 endpoint', async () => {
    const inner = await resolveObjectStore('embedded', { log: () => {} });
    try {
      const u = new URL(inner.endpoint);
      const s = await resolveObjectStore('url', {
        url: `http://${inner.accessKeyId}:${inner.secretAccessKey}@${u.host}/other-bucket`,
        log: () => {},
      });
      expect(s.bucket).toBe('other-bucket');
      expect(inner.embedded!.list('other-bucket')).toEqual([]);
    } finally {
      await inner.stop();
    }
  });
});
