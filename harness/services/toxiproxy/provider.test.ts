/**
 * Provider selection: auto falls back to the embedded proxy with one line saying why; url checks
 * /version and fails with a clear harness error; container refuses clearly without a runtime.
 */
import { describe, expect, it } from 'vitest';
import { HarnessError } from '../../config/errors';
import { containerRuntimeAvailable, resolveToxiproxy } from './provider';

describe('resolveToxiproxy', () => {
  it('auto picks a runtime or the embedded proxy, and says which in one line', async () => {
    const lines: string[] = [];
    const rt = await containerRuntimeAvailable();
    if (rt.ok) return; // a container runtime exists here: auto would start a container; covered elsewhere
    const t0 = performance.now();
    const tp = await resolveToxiproxy('auto', { log: (l) => lines.push(l) });
    try {
      expect(performance.now() - t0).toBeLessThan(3000);
      expect(tp.mode).toBe('embedded');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^toxiproxy: embedded at http:\/\/127\.0\.0\.1:\d+ \(auto: no container runtime/);
      expect(JSON.parse(await tp.client.getVersion()).version).toBe('2.12.0');
      expect(await tp.allocateListen()).toBe('127.0.0.1:0');
      expect(tp.clientAddress('127.0.0.1:4321')).toEqual({ host: '127.0.0.1', port: 4321 });
    } finally {
      await tp.stop();
    }
    await expect(fetch(`${tp.url}/version`)).rejects.toThrow();
  });

  it('url connects to an existing server after checking /version', async () => {
    const embedded = await resolveToxiproxy('embedded', { log: () => {} });
    try {
      const lines: string[] = [];
      const tp = await resolveToxiproxy('url', { url: `${embedded.url}/`, log: (l) => lines.push(l) });
      expect(tp.mode).toBe('url');
      expect(tp.url).toBe(embedded.url);
      expect(lines).toEqual([`toxiproxy: url at ${embedded.url} (Toxiproxy 2.12.0 answers there)`]);
      await tp.client.createProxy({ name: 'x', listen: await tp.allocateListen(), upstream: '127.0.0.1:1' });
      expect(Object.keys(await embedded.client.getAll())).toEqual(['x']);
      await tp.stop(); // does not stop someone else's server
      expect(JSON.parse(await embedded.client.getVersion()).version).toBe('2.12.0');
    } finally {
      await embedded.stop();
    }
  });

  it('url fails with HRN_ERR_SERVICE when nothing answers', async () => {
    const err = await resolveToxiproxy('url', { url: 'http://127.0.0.1:1', log: () => {} }).catch((e) => e);
    expect(err).toBeInstanceOf(HarnessError);
    expect(err.code).toBe('HRN_ERR_SERVICE');
    expect(err.message).toMatch(/no Toxiproxy answers at http:\/\/127\.0\.0\.1:1/);
    const noUrl = await resolveToxiproxy('url', { log: () => {} }).catch((e) => e);
    expect(noUrl.code).toBe('HRN_ERR_CONFIG');
  });

  it('container without a runtime fails clearly', async () => {
    if ((await containerRuntimeAvailable()).ok) return;
    const err = await resolveToxiproxy('container', { log: () => {} }).catch((e) => e);
    expect(err).toBeInstanceOf(HarnessError);
    expect(err.message).toMatch(/needs a container runtime/);
  });
});
