/**
 * The phone's side of the watch bridge (RFC 2.2.4 processActivityPack): store the activity in the
 * phone's database, keep the FIT file on the phone, and sync at once ("Workout Complete: Critical").
 * It is the phone app's logic, so it lives with the kinds, not in the runner.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PairContext } from '../../protocol/device';
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
    mkdirSync(join(peer.dataDir, 'fit'), { recursive: true });
    writeFileSync(join(peer.dataDir, 'fit', `${pack.activityId}.fit`), pack.fitFile);
    event({
      f: 'watch-transfer',
      device: id,
      id: pack.activityId,
      table: 'activities',
      extra: { to: peer.id, fitBytes: pack.fitFile.length, sha256 },
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
  });
}
