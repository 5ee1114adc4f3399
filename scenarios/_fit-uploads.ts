/**
 * Shared steps of the FIT upload scenarios: generate seeded activities, attach them on a device with
 * an upload queue (phone or web client: the same queue code, the same API), and check the object
 * store and the server against what was generated (a scenario-level checker).
 */
import { createHash } from 'node:crypto';
import { type GeneratedSport, generateFitActivity } from '../fixtures/fit/generator';
import type { DeviceHandle, ScenarioContext } from '../harness/index';
import { FIT_CONTENT_TYPE, type UploadingDevice } from '../protocol/files';

export interface PlannedActivity {
  id: string;
  sport: GeneratedSport;
  durationS: number;
  /** The session's total distance as the generator wrote it (m). */
  distanceM: number;
  bytes: Uint8Array;
  sha256: string;
}

const SPORTS: GeneratedSport[] = ['running', 'cycling', 'walking', 'hiking'];

export function planActivities(ctx: ScenarioContext, durations: number[]): PlannedActivity[] {
  return durations.map((durationS, i) => {
    const sport = SPORTS[ctx.rng.int(0, SPORTS.length - 1)]!;
    const seed = ctx.rng.int(1, 2 ** 31 - 1);
    const { bytes, session } = generateFitActivity({
      seed,
      sport,
      durationS,
      startTime: new Date(Date.UTC(2024, 5, 1 + i, 6)),
    });
    return {
      id: ctx.id('act'),
      sport,
      durationS,
      distanceM: session.totalDistanceM,
      bytes,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    };
  });
}

/** The device's upload queue API; a scenario error for a kind without one. */
export function uploaderOf(device: DeviceHandle): UploadingDevice {
  const d = device.raw as Partial<UploadingDevice>;
  if (typeof d.attachFile !== 'function' || typeof d.uploadStatus !== 'function')
    throw new Error(`device "${device.id}" (${device.kind}) has no file upload queue; phones and web clients do`);
  return d as UploadingDevice;
}

/** Creates each activity on the device (subjective fields only: the FIT brings the rest) and queues its file. */
export async function recordOn(device: DeviceHandle, acts: PlannedActivity[]): Promise<void> {
  const p = uploaderOf(device);
  for (const a of acts)
    await device.create(
      'activities',
      { rpe: 6, notes: `${a.sport} ${a.durationS} s`, source_device: device.kind },
      a.id,
    );
  // The records go first (a file attaches to a record the server has); an upload queued before the
  // push would wait for the next sync.
  await device.sync('workout_complete');
  for (const a of acts) {
    await p.attachFile({
      table: 'activities',
      recordId: a.id,
      bytes: a.bytes,
      fileName: `${a.id}.fit`,
      contentType: FIT_CONTENT_TYPE,
    });
  }
}

export const recordOnPhone = recordOn;

/**
 * Every planned file is in the store exactly once with its checksum, nothing else is, and the
 * server's activity row carries its key and the FIT's duration.
 */
export async function checkArrivedOnce(
  ctx: ScenarioContext,
  reader: DeviceHandle,
  acts: Array<Pick<PlannedActivity, 'id' | 'durationS' | 'sha256'>>,
) {
  const { expect, note } = ctx;
  const objects = (await ctx.objectStore?.list()) ?? [];
  await reader.sync('manual');
  const rows = new Map((await reader.snapshot()).activities.map((r) => [r.id, r]));
  for (const a of acts) {
    const matching = objects.filter((o) => o.sha256 === a.sha256);
    expect(matching.length === 1, `${a.id}: its FIT is stored exactly once (found ${matching.length})`);
    const row = rows.get(a.id);
    expect(
      !!row && row.fit_file_key === matching[0]?.key,
      `${a.id}: the server row points at the stored object (${String(row?.fit_file_key)})`,
    );
    expect(
      row?.duration_s === a.durationS,
      `${a.id}: duration_s ${String(row?.duration_s)} comes from the FIT (${a.durationS})`,
    );
  }
  const expected = new Set(acts.map((a) => a.sha256));
  const strays = objects.filter((o) => !expected.has(o.sha256));
  expect(strays.length === 0, `no stray or partial objects in the store (${strays.map((o) => o.key).join(', ')})`);
  const rewrites = objects.reduce((n, o) => n + Math.max(0, (o.writes ?? 1) - 1), 0);
  if (rewrites)
    note(`${rewrites} PUT(s) rewrote an object already stored (a retry after a lost response): same key, no duplicate`);
  return { objects, rows };
}
