/**
 * The web app's page script: local-first writes into Dexie, a minimal UI (lists per table, a sync
 * badge, an add/edit form), leader election across tabs and the harness test API (`window.__harness`).
 *
 * Tabs of one device share one IndexedDB. One tab is the leader (it holds the Web Lock 'leader'
 * for its whole life; the lock passes to another tab when it closes): it owns the automatic
 * triggers (app launch, reconnect, pokes from the events stream, periodic background). Any tab may
 * run a user-requested sync, but every sync takes the Web Lock 'sync', so one runs at a time.
 */
import { liveQuery } from 'dexie';
import type { SyncOutcome, SyncTrigger } from '../../../protocol/device';
import type { UploadItem, UploadQueueStatus } from '../../../protocol/files';
import { columnsFor, TABLE_NAMES, type TableName } from '../../../protocol/tables';
import { SyncHttpClient, subscribePokes } from '../../common/sync-http';
import type { UploadQueue } from '../../common/upload-queue';
import { getMeta, type LocalRow, openDb, setMeta } from './db';
import {
  type AppConfig,
  countTokenRefresh,
  fetchToken,
  loadConfig,
  localWrite,
  pendingCount,
  SyncEngine,
  type SyncStatusMeta,
  snapshot,
  type WriteOp,
} from './engine';
import { createWebUploads } from './uploads';

const tabId = `tab-${Math.random().toString(36).slice(2, 8)}`;
const passive = location.hash.includes('passive');
const db = openDb();
let cfg: AppConfig;
let engine: SyncEngine;
let leader = false;
const bc = new BroadcastChannel('sync-harness');
let http: SyncHttpClient;
/** The upload queue (RFC 2.2.6): run by the leader tab only, so one tab at a time works the persisted queue. */
let uploads: UploadQueue | undefined;
let uploadsLoaded: Promise<void> | undefined;
let cachedClockOffsetMs = 0;

async function clockOffset(): Promise<number> {
  return (await getMeta<number>(db, 'clockOffsetMs')) ?? 0;
}

async function requestBackgroundSync() {
  try {
    const reg = (await navigator.serviceWorker?.ready) as ServiceWorkerRegistration & {
      sync?: { register(tag: string): Promise<void> };
    };
    await reg?.sync?.register('outbox');
  } catch {
    /* Background Sync unavailable: the leader's triggers still deliver the outbox */
  }
}

async function write(op: WriteOp) {
  await localWrite(db, cfg, op, await clockOffset());
  if (cfg.backgroundSyncOnWrite) void requestBackgroundSync();
}

/**
 * Coalesces triggers: one sync runs, at most one more is queued behind it (a poke that arrives
 * mid-sync must still be pulled: the queued run starts after the running one).
 */
let running: Promise<SyncOutcome> | null = null;
let next: Promise<SyncOutcome> | null = null;
function requestSync(trigger: SyncTrigger): Promise<SyncOutcome> {
  if (!running) {
    running = engine.sync(trigger).finally(() => {
      running = null;
    });
    return running;
  }
  next ??= running
    .catch(() => undefined)
    .then(() => {
      next = null;
      return requestSync(trigger);
    });
  return next;
}

/** The queue's state for the driver, stamped so it can tell a newer report from a late one. */
export interface UploadReport {
  seq: number;
  status: UploadQueueStatus;
}
const uploadReport = (): UploadReport => ({
  seq: performance.timeOrigin + performance.now(),
  status: uploads!.status(),
});

let reportTimer: ReturnType<typeof setTimeout> | undefined;
/** Tells the harness driver (same-origin control plane) how the queue stands, at most every 50 ms. */
function reportUploads() {
  if (!uploads || reportTimer !== undefined) return;
  reportTimer = setTimeout(() => {
    reportTimer = undefined;
    void fetch('/harness/event', {
      method: 'POST',
      body: JSON.stringify({ type: 'upload-status', ...uploadReport() }),
    }).catch(() => {});
  }, 50);
}

function startUploads() {
  const q = createWebUploads(cfg, http, {
    // The activity learns its file only once the server has confirmed the object.
    onCompleted: (item, res) =>
      write({
        op: 'update',
        table: item.tableName as TableName,
        id: item.recordId,
        values: { fit_file_key: res.fileKey },
      }),
    onChange: reportUploads,
    clockOffsetMs: () => cachedClockOffsetMs,
  });
  uploads = q;
  uploadsLoaded = q.load().then(() => {
    reportUploads();
    // A reloaded or relaunched app resumes what its last life left queued.
    if (q.status().pending > 0) void q.process();
  });
  // Items waiting for their record complete after a sync of any tab or of the service worker.
  bc.addEventListener('message', (e) => {
    if ((e.data as { type?: string })?.type === 'synced' && q.status().pending > 0) void q.process();
  });
}

async function liveUploads(): Promise<UploadQueue> {
  if (!uploads)
    throw new Error(`HRN_ERR_WEB_UPLOADS: tab ${tabId} does not run the upload queue (the leader tab does)`);
  await uploadsLoaded;
  return uploads;
}

function becomeLeader() {
  leader = true;
  bc.postMessage({ type: 'leader', tabId });
  renderLeader();
  startUploads();
  if (!cfg.autoTriggers) return;
  void requestSync('app_launch');
  subscribePokes({
    baseUrl: `${location.origin}/api`,
    deviceId: cfg.deviceId,
    schemaVersion: cfg.schemaVersion,
    getToken: fetchToken,
    sleep: (ms) => new Promise((r) => setTimeout(r, ms / cfg.timeScale)),
    onPoke: (p) => {
      if (p.sourceDeviceId !== cfg.deviceId) void requestSync('poke');
    },
  });
  window.addEventListener('online', () => void requestSync('reconnect'));
  if (cfg.backgroundIntervalMs > 0) {
    setInterval(() => void requestSync('background_fetch'), cfg.backgroundIntervalMs / cfg.timeScale);
  }
}

// ---------------------------------------------------------------------------------------------- UI

const $ = <T extends HTMLElement>(sel: string) => document.querySelector(sel) as T;
const esc = (s: unknown) =>
  String(s ?? '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** Up to four columns per table in the lists (the form shows all of them). */
const LIST_COLUMNS: Record<TableName, string[]> = {
  users: ['name', 'email', 'max_hr'],
  activities: ['sport', 'distance_m', 'rpe', 'notes'],
  training_plans: ['name', 'weeks', 'status'],
  scheduled_workouts: ['date', 'title', 'intensity'],
  daily_metrics: ['date', 'resting_hr', 'readiness', 'mood'],
  goals: ['title', 'target_value', 'status'],
};

function renderLeader() {
  const el = document.getElementById('leader');
  if (el) el.textContent = passive ? 'passive tab' : leader ? 'leader tab (syncs)' : 'follower tab';
}

function renderForm(table: TableName, row?: LocalRow) {
  const fields = columnsFor(table, cfg.schemaVersion)
    .filter((c) => c.name !== 'updated_at')
    .map(
      (c) =>
        `<label>${esc(c.name)}<input id="field-${c.name}" name="${c.name}" data-type="${c.type}" ${
          c.type === 'number' ? 'type="number" step="any"' : 'type="text"'
        } value="${esc(row?.[c.name] ?? '')}"></label>`,
    )
    .join('');
  $('#fields').innerHTML = fields;
  ($('#field-id') as HTMLInputElement).value = row?.id ?? '';
  ($('#table-select') as HTMLSelectElement).value = table;
  $('#save').textContent = row ? 'Save changes' : 'Add record';
}

const LIST_ROWS = 50;

/**
 * The rows a list shows (the latest LIST_ROWS) and how many there are. Read through the updated_at
 * index, never the whole table: this runs after every write and every sync, and a table of a few
 * thousand rows read in full each time kept tens of MB of the page's heap alive.
 */
async function listRows(table: TableName): Promise<{ rows: LocalRow[]; count: number }> {
  const t = db[table];
  const live = (r: LocalRow) => r._status !== 'deleted';
  const rows = columnsFor(table).some((c) => c.name === 'updated_at')
    ? await t.orderBy('updated_at').reverse().filter(live).limit(LIST_ROWS).toArray()
    : await t.filter(live).limit(LIST_ROWS).toArray();
  return { rows, count: await t.where('_status').notEqual('deleted').count() };
}

function renderTable(table: TableName, rows: LocalRow[], count: number) {
  const cols = LIST_COLUMNS[table];
  const body = rows
    .map(
      (r) =>
        `<tr data-row="${esc(`${table}/${r.id}`)}" class="st-${r._status}"><td class="id">${esc(r.id.slice(0, 8))}</td>${cols
          .map((c) => `<td>${esc(r[c])}</td>`)
          .join('')}<td class="state">${r._status === 'synced' ? '✓' : '●'}</td><td><button data-edit="${esc(
          r.id,
        )}" data-table="${table}">Edit</button><button data-del="${esc(r.id)}" data-table="${table}">✕</button></td></tr>`,
    )
    .join('');
  $(`#list-${table}`).innerHTML =
    `<h2>${table} <span class="count">${count}</span></h2><table><thead><tr><th>id</th>${cols
      .map((c) => `<th>${esc(c)}</th>`)
      .join(
        '',
      )}<th></th><th></th></tr></thead><tbody>${body || `<tr><td colspan="${cols.length + 3}" class="empty">no records</td></tr>`}</tbody></table>`;
}

function renderBadge(status: SyncStatusMeta | undefined, pending: number) {
  const online = navigator.onLine;
  const badge = $('#badge');
  const state = !online
    ? 'offline'
    : status?.syncing
      ? 'syncing'
      : status?.lastOk === false
        ? 'error'
        : pending > 0
          ? 'pending'
          : status?.lastOk
            ? 'synced'
            : 'never';
  badge.className = `badge ${state}`;
  badge.dataset.state = state;
  const last = status?.lastSyncAt ? new Date(status.lastSyncAt).toLocaleTimeString('en-GB') : 'never';
  badge.innerHTML = `<b>${online ? 'Online' : 'Offline'}</b> · <span id="badge-state">${state}</span> · last sync <span id="badge-last">${last}</span> · <span id="badge-pending">${pending}</span> pending${
    status?.lastError && state === 'error' ? ` · <span class="err">${esc(status.lastError.slice(0, 80))}</span>` : ''
  }`;
}

function startUi() {
  document.getElementById('device')!.textContent = cfg.deviceId;
  renderLeader();
  $('#table-select').innerHTML = TABLE_NAMES.map((t) => `<option value="${t}">${t}</option>`).join('');
  $('#lists').innerHTML = TABLE_NAMES.map((t) => `<section id="list-${t}"></section>`).join('');
  renderForm('goals');
  $('#table-select').addEventListener('change', (e) => renderForm((e.target as HTMLSelectElement).value as TableName));
  $('#new').addEventListener('click', (e) => {
    e.preventDefault();
    renderForm(($('#table-select') as HTMLSelectElement).value as TableName);
  });
  $('#form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const table = ($('#table-select') as HTMLSelectElement).value as TableName;
    const idInput = $('#field-id') as HTMLInputElement;
    const id = idInput.value || crypto.randomUUID();
    const values: Record<string, string | number | null> = {};
    for (const input of Array.from(document.querySelectorAll<HTMLInputElement>('#fields input'))) {
      const v = input.value.trim();
      values[input.name] = v === '' ? null : input.dataset.type === 'number' ? Number(v) : v;
    }
    const exists = (await db[table].get(id))?._status;
    await write({ op: exists && exists !== 'deleted' ? 'update' : 'create', table, id, values });
    renderForm(table);
    if (cfg.syncOnUserAction) void requestSync('checkin_submit');
  });
  $('#sync-now').addEventListener('click', () => void requestSync('pull_to_refresh'));
  $('#lists').addEventListener('click', async (e) => {
    const b = e.target as HTMLElement;
    const table = b.dataset.table as TableName | undefined;
    if (!table) return;
    if (b.dataset.edit) renderForm(table, await db[table].get(b.dataset.edit));
    if (b.dataset.del) {
      await write({ op: 'delete', table, id: b.dataset.del });
      if (cfg.syncOnUserAction) void requestSync('checkin_submit');
    }
  });
  for (const t of TABLE_NAMES) {
    liveQuery(() => listRows(t)).subscribe({ next: ({ rows, count }) => renderTable(t, rows, count) });
  }
  let last: { status?: SyncStatusMeta; pending: number } = { pending: 0 };
  liveQuery(async () => ({
    status: await getMeta<SyncStatusMeta>(db, 'status'),
    pending: await pendingCount(db),
  })).subscribe({
    next: (v) => {
      last = v;
      renderBadge(v.status, v.pending);
    },
  });
  const rerender = () => renderBadge(last.status, last.pending);
  window.addEventListener('online', rerender);
  window.addEventListener('offline', rerender);
}

// ------------------------------------------------------------------------------------ test API

export interface HarnessApi {
  ready: boolean;
  tabId: string;
  write(op: WriteOp): Promise<void>;
  sync(trigger: SyncTrigger): Promise<SyncOutcome>;
  snapshot(): ReturnType<typeof snapshot>;
  pending(): Promise<number>;
  status(): Promise<{
    leader: boolean;
    online: boolean;
    status: SyncStatusMeta | null;
    pending: number;
    pendingPushId: string | null;
    lastPulledAt: number | null;
  }>;
  setClockOffset(ms: number): Promise<void>;
  /** True once this tab runs the (loaded) upload queue. */
  uploadsReady(): Promise<boolean>;
  /** bytes as base64 (evaluate arguments are JSON). */
  attachFile(file: {
    table: string;
    recordId: string;
    bytesBase64: string;
    fileName: string;
    contentType: string;
  }): Promise<{ item: UploadItem; report: UploadReport }>;
  uploadsSettled(): Promise<UploadReport>;
  retryFailedUploads(): Promise<{ n: number; report: UploadReport }>;
  uploadStatus(): Promise<UploadReport | null>;
}

function fromBase64(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

async function main() {
  cfg = await loadConfig(db);
  cachedClockOffsetMs = await clockOffset();
  http = new SyncHttpClient({
    baseUrl: `${location.origin}/api`,
    deviceId: cfg.deviceId,
    schemaVersion: cfg.schemaVersion,
    getToken: fetchToken,
    onTokenRefresh: countTokenRefresh,
    timeoutMs: cfg.requestTimeoutMs,
    // SyncHttpClient calls `this.f(...)`: a bare window.fetch would throw "Illegal invocation".
    fetch: (input, init) => fetch(input, init),
  });
  engine = new SyncEngine(db, cfg, http, tabId);
  const api: HarnessApi = {
    ready: false,
    tabId,
    write,
    sync: (trigger) => engine.sync(trigger, 'harness'),
    snapshot: () => snapshot(db, cfg.schemaVersion),
    pending: () => pendingCount(db),
    status: async () => ({
      leader,
      online: navigator.onLine,
      status: (await getMeta<SyncStatusMeta>(db, 'status')) ?? null,
      pending: await pendingCount(db),
      pendingPushId: (await getMeta<{ pushId: string } | null>(db, 'pendingPush'))?.pushId ?? null,
      lastPulledAt: (await getMeta<number>(db, 'lastPulledAt')) ?? null,
    }),
    setClockOffset: (ms) => {
      cachedClockOffsetMs = ms;
      return setMeta(db, 'clockOffsetMs', ms);
    },
    uploadsReady: async () => {
      if (!uploads) return false;
      await uploadsLoaded;
      return true;
    },
    attachFile: async (f) => {
      const q = await liveUploads();
      const item = await q.enqueue({
        bytes: fromBase64(f.bytesBase64),
        fileName: f.fileName,
        contentType: f.contentType,
        tableName: f.table,
        recordId: f.recordId,
      });
      void q.process();
      return { item, report: uploadReport() };
    },
    uploadsSettled: async () => {
      await (await liveUploads()).process();
      return uploadReport();
    },
    retryFailedUploads: async () => {
      const q = await liveUploads();
      const n = await q.retryFailed();
      void q.process();
      return { n, report: uploadReport() };
    },
    uploadStatus: async () => {
      if (!uploads) return null;
      await uploadsLoaded;
      return uploadReport();
    },
  };
  (window as unknown as { __harness: HarnessApi }).__harness = api;
  startUi();
  if ('serviceWorker' in navigator) {
    try {
      await navigator.serviceWorker.register('/sw.js');
    } catch (e) {
      console.warn('service worker registration failed', e);
    }
  }
  if (!passive) void navigator.locks.request('leader', () => new Promise<void>(() => becomeLeader()));
  api.ready = true;
  document.body.dataset.ready = '1';
}

main().catch((e) => {
  document.body.dataset.error = String(e);
  console.error(e);
});
