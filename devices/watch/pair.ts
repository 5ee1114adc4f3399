/**
 * The phone's side of the watch bridge (RFC 2.2.4 processActivityPack): store the activity in the
 * phone's database, sync at once ("Workout Complete: Critical"), and hand the FIT file to the phone's
 * upload queue (RFC 2.2.6), which brings it to the object store and has the server decode it.
 * It is the phone app's logic, so it lives with the kinds, not in the runner.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PairContext } from '../../protocol/device';
import { FIT_CONTENT_TYPE } from '../../protocol/files';
import { phoneContextProvider } from './context-pack';
import type { WatchDevice } from './device';

/**
 * Kinds `watch` and `ble-watch`: anything that hands over activity packs and asks for context packs.
 * The context pack comes from the phone's own database (context-pack.ts), read at each request.
 */
export function pairWatchWithPhone(
  watch: Pick<WatchDevice, 'onActivityPack' | 'onContextRequest'>,
  { id, peer, event }: PairContext,
): void {
  watch.onContextRequest(
    phoneContextProvider(
      () => peer.snapshot(),
      () => peer.now(),
    ),
  );
  watch.onActivityPack(async (pack) => {
    const sha256 = createHash('sha256').update(pack.fitFile).digest('hex');
    event({
      f: 'watch-transfer',
      device: id,
      id: pack.activityId,
      table: 'activities',
      extra: { to: peer.id, fitBytes: pack.fitFile.length, sha256, upload: peer.attachFile ? 'queued' : 'none' },
    });
    const s = pack.summary;
    await peer.create(
      'activities',
      {
        sport: s.sport,
        started_at: Date.parse(s.startTime) || null,
        duration_s: s.durationS,
        distance_m: s.distanceM,
        avg_hr: s.avgHr ?? null,
        max_hr: s.maxHr ?? null,
        calories: s.calories ?? null,
        source_device: id,
        rpe: pack.rpe ?? null,
        notes: pack.notes ?? null,
      },
      pack.activityId,
    );
    await peer.sync('workout_complete');
    // The handler resolves (and the watch deletes its copy on `done`) only once the file is
    // persisted on the phone. It is queued after the push, as the phone app attaches any file: it
    // completes against a record the server has (queued before, it would wait for the next sync).
    if (peer.attachFile) {
      await peer.attachFile({
        table: 'activities',
        recordId: pack.activityId,
        bytes: pack.fitFile,
        fileName: `${pack.activityId}.fit`,
        contentType: FIT_CONTENT_TYPE,
      });
    } else {
      mkdirSync(join(peer.dataDir, 'fit'), { recursive: true });
      writeFileSync(join(peer.dataDir, 'fit', `${pack.activityId}.fit`), pack.fitFile);
    }
  });
}
