/**
 * FIT files the simulated watch records: the repository's fixtures (fixtures/fit, copied from the
 * shared fixtures with their MANIFEST.md), and the activity summary read from a FIT's session message with @garmin/fitsdk.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ActivitySummary } from './protocol';

export const FIT_FIXTURES_DIR =
  process.env.HARNESS_FIT_FIXTURES ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'fit');
export const VALID_FIT_FIXTURES = ['run-30min', 'ride-2h-power', 'swim-pool-laps', 'tiny-1min'] as const;
export type FitFixture = (typeof VALID_FIT_FIXTURES)[number];

export function loadFitFixture(name: FitFixture | string): Buffer {
  const file = name.endsWith('.fit') ? name : `${name}.fit`;
  try {
    return readFileSync(file.includes('/') ? file : join(FIT_FIXTURES_DIR, file));
  } catch (err) {
    throw new Error(
      `HRN_ERR_WATCH_FIT: cannot read FIT fixture "${name}" (${(err as Error).message}); set HARNESS_FIT_FIXTURES to the fixtures folder`,
    );
  }
}

/** The session summary of a FIT file; rejects files the SDK finds damaged (MANIFEST note 3). */
export async function summarizeFit(fit: Buffer): Promise<ActivitySummary> {
  const { Decoder, Stream } = await import('@garmin/fitsdk');
  const decoder = new Decoder(Stream.fromBuffer(fit));
  if (!decoder.isFIT() || !decoder.checkIntegrity()) {
    throw new Error('HRN_ERR_WATCH_FIT: not a valid FIT activity (integrity check failed)');
  }
  const { messages, errors } = decoder.read();
  const s = messages.sessionMesgs?.[0];
  if (errors.length || !s) throw new Error(`HRN_ERR_WATCH_FIT: FIT has no session (${errors.join('; ')})`);
  const iso = (d: unknown) => (d instanceof Date ? d.toISOString() : String(d));
  return {
    sport: String(s.sport),
    subSport: s.subSport !== undefined ? String(s.subSport) : undefined,
    startTime: iso(s.startTime),
    durationS: Number(s.totalElapsedTime ?? 0),
    distanceM: Number(s.totalDistance ?? 0),
    avgHr: s.avgHeartRate,
    maxHr: s.maxHeartRate,
    avgPower: s.avgPower,
    calories: s.totalCalories,
  };
}
