/**
 * The server's final state, read through the contract (a full pull per user), never from its
 * database, so every check also works with --target against a server we did not write.
 */
import { SyncHttpClient } from '../../devices/common/sync-http';
import { emptyTableChanges, type TableRecords } from '../../protocol/records';
import { CURRENT_SCHEMA_VERSION, TABLE_NAMES } from '../../protocol/tables';
import { tokenProvider } from './tokens';

export function emptyTableRecords(): TableRecords {
  return Object.fromEntries(TABLE_NAMES.map((t) => [t, []])) as unknown as TableRecords;
}

export async function readServerState(serverUrl: string, user: string): Promise<TableRecords> {
  const deviceId = `harness-observer-${user}`;
  const client = new SyncHttpClient({
    baseUrl: serverUrl,
    deviceId,
    schemaVersion: CURRENT_SCHEMA_VERSION,
    getToken: tokenProvider(serverUrl, user, deviceId, 'WEB'),
    timeoutMs: 120_000,
  });
  const { body } = await client.pull(0);
  const out = emptyTableRecords();
  for (const t of TABLE_NAMES) {
    const c = body.changes[t] ?? emptyTableChanges();
    out[t] = [...c.created, ...c.updated].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
  return out;
}
