import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { createPool } from '../../server/db';
import { migrate } from '../../server/schema';
import { createDatabase } from '../../server/services/postgres';
import { clusterPerFile } from '../../server/test-helpers';
import { phoneSyncMetadata, serverSyncMetadata } from './sync-metadata';

const cluster = clusterPerFile();

describe('sync metadata per device (RFC §5.2)', () => {
  it('server side: the device rows of the bookkeeping tables, growing with each push result', async () => {
    const db = await createDatabase(cluster.adminUrl);
    const pool = createPool(db.url, 2);
    try {
      await migrate(pool);
      await pool.query("INSERT INTO devices (device_id, user_id) VALUES ('d1', 'u'), ('d2', 'u')");
      await pool.query(
        "INSERT INTO sync_state (user_id, device_id, last_pulled_at) VALUES ('u', 'd1', 5), ('u', 'd2', 5)",
      );
      const ids = new Map([
        ['d1', 'phone'],
        ['d2', 'web'],
      ]);
      const before = await serverSyncMetadata(db.url, ids);
      for (let i = 0; i < 20; i++)
        await pool.query(
          "INSERT INTO push_results (user_id, device_id, push_key, response) VALUES ('u', 'd1', $1, $2)",
          [`id:${i}`, JSON.stringify({ conflictedRecords: [] })],
        );
      const after = await serverSyncMetadata(db.url, ids);
      const of = (l: typeof after, d: string) => l.find((m) => m.device === d)!;
      expect(of(before, 'phone').parts.push_results).toBeUndefined();
      expect(of(after, 'phone').parts.push_results).toBeGreaterThan(20 * 20);
      expect(of(after, 'phone').bytes).toBe(Object.values(of(after, 'phone').parts).reduce((a, b) => a + b, 0));
      expect(of(after, 'web').bytes).toBe(of(before, 'web').bytes);
      expect(of(after, 'web').side).toBe('server');
      expect(await serverSyncMetadata(undefined, ids)).toEqual([]);
    } finally {
      await pool.end();
      await db.drop();
    }
  });

  it("device side: a phone's local_storage and the _status/_changed columns of its rows", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sync-meta-'));
    try {
      const db = new Database(join(dir, 'phone.db'));
      db.exec(`CREATE TABLE local_storage (key TEXT PRIMARY KEY, value TEXT);
        CREATE TABLE goals (id TEXT PRIMARY KEY, title TEXT, _status TEXT, _changed TEXT);
        INSERT INTO local_storage VALUES ('__watermelon_last_pulled_at', '1700000000000');
        INSERT INTO goals VALUES ('g1', 'a long title that is data, not metadata', 'updated', 'title');`);
      db.close();
      const m = await phoneSyncMetadata('p1', dir);
      expect(m).toEqual({
        device: 'p1',
        side: 'device',
        bytes: 27 + 13 + 7 + 5,
        parts: { local_storage: 40, goals: 12 },
      });
      expect(await phoneSyncMetadata('p2', join(dir, 'absent'))).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
