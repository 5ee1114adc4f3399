/**
 * The simulated watch's local store (SQLite through better-sqlite3, as on a watch: a file that survives
 * a reboot; ':memory:' for throwaway watches). Holds the applied context pack, the activity pack
 * queue (compressed packs, so a resend after a reboot is byte-identical), and the blocks of a context
 * pack being received, so that transfer resumes after a reboot too.
 */
import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';
import type { ContextPack, TransferMeta } from './protocol';

const require = createRequire(import.meta.url);

export interface QueuedActivity {
  activityId: string;
  recordedAt: number;
  size: number;
  crc: number;
}

export class WatchStore {
  private readonly db: BetterSqlite3.Database;

  constructor(file = ':memory:') {
    const Database = require('better-sqlite3') as typeof BetterSqlite3;
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS activity_queue (
        activity_id TEXT PRIMARY KEY, recorded_at INTEGER NOT NULL, pack BLOB NOT NULL,
        size INTEGER NOT NULL, crc INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS incoming (
        id TEXT NOT NULL, crc INTEGER NOT NULL, idx INTEGER NOT NULL, data BLOB NOT NULL,
        PRIMARY KEY (id, crc, idx));
    `);
  }

  get<T>(k: string): T | undefined {
    const row = this.db.prepare('SELECT v FROM kv WHERE k = ?').get(k) as { v: string } | undefined;
    return row ? (JSON.parse(row.v) as T) : undefined;
  }
  set(k: string, v: unknown): void {
    this.db.prepare('INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)').run(k, JSON.stringify(v));
  }

  contextPack(): ContextPack | undefined {
    return this.get<ContextPack>('context');
  }
  applyContextPack(pack: ContextPack): void {
    this.db.transaction(() => {
      this.set('context', pack);
      this.db.prepare("DELETE FROM incoming WHERE id LIKE 'context-%'").run();
    })();
  }

  enqueueActivity(activityId: string, pack: Buffer, crc: number, at: number): void {
    this.db
      .prepare(
        'INSERT OR REPLACE INTO activity_queue (activity_id, recorded_at, pack, size, crc) VALUES (?, ?, ?, ?, ?)',
      )
      .run(activityId, at, pack, pack.length, crc);
  }
  queue(): QueuedActivity[] {
    return (
      this.db
        .prepare('SELECT activity_id, recorded_at, size, crc FROM activity_queue ORDER BY recorded_at, activity_id')
        .all() as { activity_id: string; recorded_at: number; size: number; crc: number }[]
    ).map((r) => ({ activityId: r.activity_id, recordedAt: r.recorded_at, size: r.size, crc: r.crc }));
  }
  activityPack(activityId: string): Buffer | undefined {
    const r = this.db.prepare('SELECT pack FROM activity_queue WHERE activity_id = ?').get(activityId) as
      | { pack: Buffer }
      | undefined;
    return r?.pack;
  }
  dequeueActivity(activityId: string): void {
    this.db.prepare('DELETE FROM activity_queue WHERE activity_id = ?').run(activityId);
  }

  /** Blocks of an incoming pack already held (for resume after a reboot). */
  incomingBlocks(meta: TransferMeta): Map<number, Buffer> {
    const rows = this.db.prepare('SELECT idx, data FROM incoming WHERE id = ? AND crc = ?').all(meta.id, meta.crc) as {
      idx: number;
      data: Buffer;
    }[];
    return new Map(rows.map((r) => [r.idx, r.data]));
  }
  saveIncomingBlock(meta: TransferMeta, idx: number, data: Buffer): void {
    this.db
      .prepare('INSERT OR REPLACE INTO incoming (id, crc, idx, data) VALUES (?, ?, ?, ?)')
      .run(meta.id, meta.crc, idx, data);
  }

  close(): void {
    this.db.close();
  }
}
