/**
 * Service worker: keeps the app shell available offline and performs Background Sync. A `sync`
 * event (fired by the browser on reconnect, or by the harness through CDP) runs the same engine as
 * the pages, under the same Web Lock, so it works with every page closed.
 */
/// <reference lib="webworker" />
import { SyncHttpClient } from '../../common/sync-http';
import { openDb } from './db';
import { countTokenRefresh, fetchToken, loadConfig, SyncEngine } from './engine';

declare const self: ServiceWorkerGlobalScope;
const SHELL = ['/', '/app.js', '/app.css'];
const CACHE = 'shell-v1';

/** Requests the worker never handles: with these routes Chromium does not even wake it for them. */
const NETWORK_ONLY = ['/api/*', '/harness/*', '/config.json'];

self.addEventListener('install', (e) => {
  // Service Worker Static Routing (Chromium 123+): API traffic bypasses the worker entirely, so a
  // sync from a page never pays a worker start-up or an extra hop.
  const routed = e as ExtendableEvent & { addRoutes?(rules: unknown[]): Promise<void> };
  if (routed.addRoutes) {
    e.waitUntil(
      routed
        .addRoutes(NETWORK_ONLY.map((pathname) => ({ condition: { urlPattern: { pathname } }, source: 'network' })))
        .catch(() => {}),
    );
  }
  e.waitUntil(
    caches
      .open(CACHE)
      .then((c) => c.addAll(SHELL))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));

self.addEventListener('fetch', (e) => {
  const url = new URL(e.request.url);
  if (e.request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/api/') || url.pathname.startsWith('/harness/') || url.pathname === '/config.json')
    return;
  // Network first (a fresh build wins), the cached shell when offline.
  e.respondWith(
    fetch(e.request)
      .then((res) => {
        if (res.ok) {
          const copy = res.clone();
          void caches.open(CACHE).then((c) => c.put(e.request, copy));
        }
        return res;
      })
      .catch(async () => (await caches.match(e.request, { ignoreSearch: true })) ?? (await caches.match('/'))!),
  );
});

async function backgroundSync(): Promise<void> {
  const db = openDb();
  try {
    const cfg = await loadConfig(db);
    const http = new SyncHttpClient({
      baseUrl: `${self.location.origin}/api`,
      deviceId: cfg.deviceId,
      schemaVersion: cfg.schemaVersion,
      getToken: fetchToken,
      onTokenRefresh: countTokenRefresh,
      timeoutMs: cfg.requestTimeoutMs,
      fetch: (input, init) => fetch(input, init),
    });
    const out = await new SyncEngine(db, cfg, http, 'sw').sync('background_fetch');
    // Tell the harness (same origin, control plane) the sync finished; nobody else listens.
    await fetch('/harness/event', {
      method: 'POST',
      body: JSON.stringify({
        type: 'background-sync',
        ok: out.ok,
        error: out.error,
        pushed: out.pushed,
        pulled: out.pulled,
      }),
    }).catch(() => {});
    // Rejecting tells the browser the sync failed, so it schedules a retry.
    if (!out.ok) throw new Error(out.error ?? 'background sync failed');
  } finally {
    db.close();
  }
}

interface SyncEvent extends ExtendableEvent {
  tag: string;
}
self.addEventListener(
  'sync' as keyof ServiceWorkerGlobalScopeEventMap,
  ((e: SyncEvent) => {
    if (e.tag === 'outbox') e.waitUntil(backgroundSync());
  }) as EventListener,
);
