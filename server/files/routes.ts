/**
 * POST /files/upload-url and /files/complete (sync-contract.md; RFC 0006 §2.2.6, phase 5).
 *
 * upload-url hands out a presigned PUT for a content-addressed key (user + sha256), so an upload
 * retried after a lost response, or a second request for the same file, names the same object: a
 * file can never be stored twice. complete reads the object back, checks size and sha256, decodes
 * it in a worker (fit-decode.ts) and only then, in one transaction under the user's stamp lock,
 * writes the activity's objective columns and fit_file_key. Any rejection leaves the activity as it
 * was.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type pg from 'pg';
import { SyncApiError } from '../../protocol/errors';
import {
  type CompleteResponse,
  FILE_TABLES,
  parseCompleteRequest,
  parseUploadUrlRequest,
  type UploadUrlResponse,
} from '../../protocol/files';
import { withTransaction } from '../db';
import { DELETED_COL, q, STAMP_COL } from '../schema';
import type { Actor } from '../store';
import { POKE_CHANNEL } from '../store';
import { FitDecodePool, type FitSummary } from './fit-decode';
import { ObjectStoreClient, type ObjectStoreConfig } from './object-store';

export interface FileRoutesOptions {
  pool: pg.Pool;
  objectStore?: ObjectStoreConfig;
  authenticate(req: FastifyRequest): Promise<Actor>;
  /** FIT decode workers (default 1: decoding is CPU-bound and the server shares the machine). */
  decodeWorkers?: number;
  now?: () => number;
}

/** Activity columns a FIT session fills (the "objective" half of the activities merge rule). */
export function objectiveColumns(s: FitSummary, fileKey: string): Record<string, string | number | null> {
  return {
    sport: s.sport,
    started_at: s.startedAt,
    duration_s: s.durationS,
    distance_m: s.distanceM,
    avg_hr: s.avgHr,
    max_hr: s.maxHr,
    calories: s.calories,
    elevation_gain_m: s.elevationGainM,
    fit_file_key: fileKey,
  };
}

const sha256Hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

export async function registerFileRoutes(app: FastifyInstance, opts: FileRoutesOptions): Promise<void> {
  const { pool } = opts;
  const now = opts.now ?? Date.now;
  if (!opts.objectStore) {
    const notConfigured = async (req: FastifyRequest) => {
      await opts.authenticate(req);
      throw new SyncApiError('SYNC_ERR_NOT_IMPLEMENTED', [
        'This server runs without an object store, so it accepts no files; start it with one (server/README.md "Files").',
      ]);
    };
    app.post('/files/upload-url', notConfigured);
    app.post('/files/complete', notConfigured);
    return;
  }
  const store = new ObjectStoreClient(opts.objectStore);
  const decoder = new FitDecodePool(opts.decodeWorkers ?? 1);
  app.addHook('onClose', async () => {
    await decoder.close();
    store.close();
  });

  app.post('/files/upload-url', async (req): Promise<UploadUrlResponse> => {
    const actor = await opts.authenticate(req);
    const body = parseUploadUrlRequest(req.body);
    const userPart = createHash('sha256').update(actor.userId).digest('hex').slice(0, 20);
    const ext = /\.[A-Za-z0-9]{1,8}$/.exec(body.fileName)?.[0]?.toLowerCase() ?? '';
    const fileKey = `users/${userPart}/files/${body.sha256}${ext}`;
    // Same key for the same content: a repeated request re-presigns; a finished one stays finished.
    await pool.query(
      `INSERT INTO file_objects (file_key, user_id, device_id, file_name, content_type, size, sha256, status)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending')
       ON CONFLICT (file_key) DO UPDATE SET device_id = EXCLUDED.device_id, file_name = EXCLUDED.file_name,
         content_type = EXCLUDED.content_type, size = EXCLUDED.size
       WHERE file_objects.status <> 'complete'`,
      [fileKey, actor.userId, actor.deviceId, body.fileName, body.contentType, body.size, body.sha256],
    );
    const signed = await store.presignPut(fileKey, body.contentType, body.size, actor.deviceId);
    return { uploadUrl: signed.uploadUrl, fileKey, expiresAt: signed.expiresAt };
  });

  app.post('/files/complete', async (req, reply): Promise<CompleteResponse> => {
    const actor = await opts.authenticate(req);
    const body = parseCompleteRequest(req.body);
    const { rows } = await pool.query(
      `SELECT size, sha256, status, record_table, record_id, content_type FROM file_objects WHERE file_key = $1 AND user_id = $2`,
      [body.fileKey, actor.userId],
    );
    const meta = rows[0] as
      | { size: number; sha256: string; status: string; record_table: string | null; record_id: string | null }
      | undefined;
    if (!meta)
      throw new SyncApiError('SYNC_ERR_NOT_FOUND', [
        `no upload "${body.fileKey}" for this user; ask POST /files/upload-url for a key first`,
      ]);
    const bytes = await store.get(body.fileKey);
    if (!bytes)
      throw new SyncApiError('SYNC_ERR_UPLOAD_INCOMPLETE', [
        `the object "${body.fileKey}" is not in the store yet; PUT the file to its upload URL (ask for a new URL if it expired), then complete again`,
      ]);
    const reject = async (reason: string) => {
      await pool.query(`UPDATE file_objects SET status = 'rejected' WHERE file_key = $1 AND status <> 'complete'`, [
        body.fileKey,
      ]);
      throw new SyncApiError('SYNC_ERR_UNPROCESSABLE', [reason]);
    };
    if (bytes.length !== Number(meta.size))
      await reject(`the stored object has ${bytes.length} bytes, but the upload declared ${meta.size}`);
    const actual = sha256Hex(bytes);
    if (actual !== meta.sha256)
      await reject(`checksum mismatch: the upload declared sha256 ${meta.sha256}, the stored object has ${actual}`);
    const decoded = await decoder.decode(bytes);
    req.log.info(
      decoded.ok
        ? {
            fileKey: body.fileKey,
            bytes: bytes.length,
            decodeMs: Math.round(decoded.totalMs),
            records: decoded.summary.records,
          }
        : { fileKey: body.fileKey, bytes: bytes.length, parser: decoded.parser, reason: decoded.reason },
      'files: decoded',
    );
    if (!decoded.ok) return reject(`not a valid FIT activity (${decoded.parser}): ${decoded.reason}`);

    const column = FILE_TABLES[body.tableName];
    const values = objectiveColumns(decoded.summary, body.fileKey);
    const t = q(body.tableName);
    const result = await withTransaction(pool, 'BEGIN', async (c) => {
      const prev = Number(
        (await c.query('SELECT stamp FROM user_stamps WHERE user_id = $1 FOR UPDATE', [actor.userId])).rows[0]?.stamp ??
          0,
      );
      const cur = await c.query(
        `SELECT ${DELETED_COL} AS deleted, ${q(column)} AS key FROM ${t} WHERE user_id = $1 AND id = $2`,
        [actor.userId, body.recordId],
      );
      const row = cur.rows[0] as { deleted: boolean; key: string | null } | undefined;
      // The record must be on the server: creating it here would be a write no device made, and its
      // own push would then lose the columns the merge rule gives the server.
      if (!row)
        throw new SyncApiError('SYNC_ERR_RECORD_NOT_SYNCED', [
          `${body.tableName} "${body.recordId}" is not on the server yet; push it (sync), then complete the upload again`,
        ]);
      if (row.deleted)
        throw new SyncApiError('SYNC_ERR_NOT_FOUND', [
          `${body.tableName} "${body.recordId}" was deleted; the file is kept but attached to nothing`,
        ]);
      const cols = Object.keys(values);
      const stamp = Math.max(prev + 1, now());
      await c.query(
        `UPDATE ${t} SET ${STAMP_COL} = $3, ${cols.map((k, i) => `${q(k)} = $${i + 4}`).join(', ')}
         WHERE user_id = $1 AND id = $2`,
        [actor.userId, body.recordId, stamp, ...cols.map((k) => values[k])],
      );
      await c.query(
        `UPDATE file_objects SET status = 'complete', record_table = $2, record_id = $3, completed_at = now() WHERE file_key = $1`,
        [body.fileKey, body.tableName, body.recordId],
      );
      await c.query(`UPDATE user_stamps SET stamp = GREATEST(stamp, $2::bigint) WHERE user_id = $1`, [
        actor.userId,
        stamp,
      ]);
      await c.query(`SELECT pg_notify('${POKE_CHANNEL}', $1)`, [
        JSON.stringify({ u: actor.userId, tables: [body.tableName], timestamp: stamp, sourceDeviceId: actor.deviceId }),
      ]);
      return { stamp };
    });
    reply.header('x-fit-decode-ms', String(Math.round(decoded.totalMs)));
    return {
      success: true,
      fileKey: body.fileKey,
      recordId: body.recordId,
      tableName: body.tableName,
      record: { id: body.recordId, ...values },
      timestamp: result.stamp,
    };
  });
}
