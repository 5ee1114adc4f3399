/**
 * A bare contract client for probes (harness/target/probes): one request at a time, nothing local,
 * every request and answer recorded in the history with what matters for diagnosis (the
 * lastPulledAt sent, the timestamp received, the ids per table and bucket, the status and message),
 * so a finding can point at the exact exchange. Pull and push go through the same SyncHttpClient
 * the devices use; `raw` sends a deliberately wrong request, marked so the gateway lets it pass.
 */

import { SyncHttpClient, SyncHttpError } from '../../devices/common/sync-http';
import type { DatabaseChanges, PullResponse, PushResponse } from '../../protocol/records';
import type { SchemaVersion, TableName } from '../../protocol/tables';
import type { History } from '../history/index';
import { tokenProvider } from '../runner/tokens';
import { DELIBERATE_HEADER } from './wire';

export interface ProbeAnswer<T> {
  /** HTTP status; 0 when the connection failed. */
  status: number;
  body?: T;
  error?: string;
  /** History index of the completion. */
  index: number;
}

export function idsOf(
  changes: DatabaseChanges | undefined,
): Record<string, { updated: string[]; created: string[]; deleted: string[] }> {
  const out: Record<string, { updated: string[]; created: string[]; deleted: string[] }> = {};
  for (const [t, tc] of Object.entries(changes ?? {})) {
    if (!tc) continue;
    const ids = (a: unknown) =>
      Array.isArray(a) ? a.map((r) => String(typeof r === 'string' ? r : (r as { id?: unknown })?.id)) : [];
    const e = { created: ids(tc.created), updated: ids(tc.updated), deleted: ids(tc.deleted) };
    if (e.created.length || e.updated.length || e.deleted.length) out[t] = e;
  }
  return out;
}

export class ProbeClient {
  private readonly clients = new Map<SchemaVersion, SyncHttpClient>();
  readonly getToken: () => Promise<string>;

  constructor(
    private readonly o: {
      serverUrl: string;
      /** The scenario's user (history, findings) and the id it has on the server. */
      user: string;
      serverUser: string;
      name: string;
      deviceId: string;
      rec: History;
    },
  ) {
    this.getToken = tokenProvider(o.serverUrl, o.serverUser, o.deviceId, 'WEB');
  }

  get name(): string {
    return this.o.name;
  }
  get deviceId(): string {
    return this.o.deviceId;
  }

  private http(v: SchemaVersion): SyncHttpClient {
    let c = this.clients.get(v);
    if (!c) {
      c = new SyncHttpClient({
        baseUrl: this.o.serverUrl,
        deviceId: this.o.deviceId,
        schemaVersion: v,
        getToken: this.getToken,
        timeoutMs: 30_000,
      });
      this.clients.set(v, c);
    }
    return c;
  }

  private async exchange<T>(
    request: string,
    sent: Record<string, unknown>,
    fn: () => Promise<T>,
    describe: (t: T) => Record<string, unknown>,
  ): Promise<ProbeAnswer<T>> {
    const h = this.o.rec.invoke({
      f: 'check',
      process: `probe:${this.o.name}`,
      user: this.o.user,
      extra: { probe: this.o.name, request, ...sent },
    });
    try {
      const body = await fn();
      const op = h.ok({ extra: { probe: this.o.name, request, status: 200, ...describe(body) } });
      return { status: 200, body, index: op.index };
    } catch (e) {
      const status = e instanceof SyncHttpError ? (e.status ?? 0) : 0;
      const error = (e as Error).message;
      const op = h.fail({ error, extra: { probe: this.o.name, request, status } });
      return { status, error, index: op.index };
    }
  }

  pull(lastPulledAt: number, opts: { tables?: TableName[]; schemaVersion?: SchemaVersion } = {}) {
    return this.exchange<PullResponse>(
      'pull',
      { lastPulledAt, ...(opts.tables ? { tables: opts.tables } : {}) },
      async () => (await this.http(opts.schemaVersion ?? 2).pull(lastPulledAt, opts.tables)).body,
      (b) => ({ timestamp: b.timestamp, ids: idsOf(b.changes) }),
    );
  }

  push(changes: DatabaseChanges, lastPulledAt: number, opts: { pushId?: string; schemaVersion?: SchemaVersion } = {}) {
    return this.exchange<PushResponse>(
      'push',
      { lastPulledAt, ids: idsOf(changes), ...(opts.pushId ? { pushId: opts.pushId } : {}) },
      async () =>
        (
          await this.http(opts.schemaVersion ?? 2).push({
            changes,
            lastPulledAt,
            deviceId: this.o.deviceId,
            ...(opts.pushId ? { pushId: opts.pushId } : {}),
          })
        ).body,
      (b) => ({
        timestamp: b.timestamp,
        conflicts: (b.conflictedRecords ?? []).map((c) => `${c.tableName}/${c.id}:${c.resolution}`),
      }),
    );
  }

  /** A request that breaks the contract on purpose (an edge case a real client sends). Never throws. */
  async raw(method: string, pathAndQuery: string, body?: unknown): Promise<ProbeAnswer<unknown>> {
    return this.exchange<{ status: number; text: string }>(
      'raw',
      { method, path: pathAndQuery },
      async () => {
        const res = await fetch(this.o.serverUrl + pathAndQuery, {
          method,
          headers: {
            authorization: `Bearer ${await this.getToken()}`,
            'x-schema-version': '2',
            [DELIBERATE_HEADER]: '1',
            ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          },
          body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
        });
        return { status: res.status, text: (await res.text()).slice(0, 500) };
      },
      (r) => ({ status: r.status, answer: r.text.slice(0, 200) }),
    ).then((a) => ({ ...a, status: a.body?.status ?? a.status }));
  }
}
