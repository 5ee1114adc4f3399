/**
 * FIT ingest against fixtures/fit/MANIFEST.md: the four valid files decode with the MANIFEST's
 * session totals, the five broken ones are rejected with the parser's reason; and the generator's
 * files, from 1 minute to 6 hours, decode the same in both parsers.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Decoder, Stream } from '@garmin/fitsdk';
import FitParser from 'fit-file-parser';
import { afterAll, describe, expect, it } from 'vitest';
import { generateFitActivity } from '../../fixtures/fit/generator';
import { FitDecodePool } from './fit-decode';

const DIR = join(__dirname, '..', '..', 'fixtures', 'fit');
const read = (f: string) => readFileSync(join(DIR, f));
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const pool = new FitDecodePool(2);
afterAll(() => pool.close());

const VALID = [
  {
    file: 'run-30min.fit',
    sha: 'c5b75c8cf552ad8ff19a6384cad73d9772d35e400b23849c910e355636a762d0',
    sport: 'running',
    records: 1800,
    laps: 6,
    distanceM: 5583.11,
    durationS: 1800,
    avgHr: 144,
    maxHr: 155,
    calories: 391,
    elevationGainM: 21,
    start: '2024-05-18T06:30:00.000Z',
  },
  {
    file: 'ride-2h-power.fit',
    sha: 'e8500457dca4c83a76d144eaa05c37946411d0938ce5fc6f103c8b57c989be6d',
    sport: 'cycling',
    records: 7200,
    laps: 4,
    distanceM: 64133.69,
    durationS: 7200,
    avgHr: 146,
    maxHr: 157,
    calories: 1395,
    elevationGainM: 266,
    start: '2024-05-19T07:00:00.000Z',
  },
  {
    file: 'swim-pool-laps.fit',
    sha: 'ceb49f45b0df02051c2cf8dbfe6950455f1f5e1825ec776bf61ffc2d9bc8a1ef',
    sport: 'swimming',
    records: 1220,
    laps: 7,
    distanceM: 1000,
    durationS: 1220,
    avgHr: 134,
    maxHr: 146,
    calories: 191,
    elevationGainM: null,
    start: '2024-05-20T17:00:00.000Z',
  },
  {
    file: 'tiny-1min.fit',
    sha: '793fab7858fc51801074f5f19eb9551970244eb1e4b3616d64a5a7753255968c',
    sport: 'running',
    records: 60,
    laps: 1,
    distanceM: 140.03,
    durationS: 60,
    avgHr: 107,
    maxHr: 117,
    calories: undefined,
    elevationGainM: undefined,
    start: '2024-05-21T12:00:00.000Z',
  },
];

// MANIFEST "Bad files": the reason each must be rejected with (fit-file-parser force:false).
const BAD = [
  { file: 'truncated.fit', reason: 'File data exceeds input length' },
  { file: 'bad-crc.fit', reason: 'File CRC mismatch' },
  { file: 'not-a-fit.fit', reason: 'Incorrect header size' },
  { file: 'empty.fit', reason: 'File to small to be a FIT file' },
  { file: 'header-only.fit', reason: 'File data exceeds input length' },
];

describe('shared FIT fixtures (MANIFEST.md)', () => {
  for (const v of VALID) {
    it(`${v.file} decodes with the MANIFEST's session totals`, async () => {
      const bytes = read(v.file);
      expect(sha(bytes)).toBe(v.sha);
      const r = await pool.decode(bytes);
      if (!r.ok) throw new Error(`rejected: ${r.reason}`);
      expect(r.summary.sport).toBe(v.sport);
      expect(r.summary.records).toBe(v.records);
      expect(r.summary.laps).toBe(v.laps);
      expect(r.summary.sessions).toBe(1);
      expect(r.summary.distanceM).toBeCloseTo(v.distanceM, 2);
      expect(r.summary.durationS).toBe(v.durationS);
      expect(r.summary.avgHr).toBe(v.avgHr);
      expect(r.summary.maxHr).toBe(v.maxHr);
      if (v.calories !== undefined) expect(r.summary.calories).toBe(v.calories);
      if (v.elevationGainM !== undefined) expect(r.summary.elevationGainM).toBe(v.elevationGainM);
      expect(new Date(r.summary.startedAt!).toISOString()).toBe(v.start);
    });
  }
  for (const b of BAD) {
    it(`${b.file} is rejected with "${b.reason}"`, async () => {
      const r = await pool.decode(read(b.file));
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.parser).toBe('fit-file-parser');
        expect(r.reason).toBe(b.reason);
      }
    });
  }
  it('a FIT with no session or records is not an activity (MANIFEST note 4)', async () => {
    // 16 bytes: a 14-byte header declaring 0 data bytes plus a valid file CRC, built by the SDK encoder.
    const { Encoder } = await import('@garmin/fitsdk');
    const empty = new Encoder().close();
    const r = await pool.decode(empty);
    expect(r).toMatchObject({ ok: false, parser: 'application' });
  });
  it('trailing bytes after a valid file are caught by the SDK cross-check', async () => {
    const r = await pool.decode(Buffer.concat([read('tiny-1min.fit'), Buffer.from('garbage!')]));
    expect(r).toMatchObject({ ok: false, parser: '@garmin/fitsdk' });
  });
});

describe('FIT generator', () => {
  it('is deterministic from its seed and differs between seeds', () => {
    const a = generateFitActivity({ seed: 7, durationS: 120 });
    const b = generateFitActivity({ seed: 7, durationS: 120 });
    const c = generateFitActivity({ seed: 8, durationS: 120 });
    expect(sha(a.bytes)).toBe(sha(b.bytes));
    expect(sha(a.bytes)).not.toBe(sha(c.bytes));
  });

  for (const [sport, durationS] of [
    ['running', 60],
    ['cycling', 2 * 3600],
    ['walking', 1800],
  ] as const) {
    it(`${sport} ${durationS} s: both parsers read the generated session and records`, async () => {
      const g = generateFitActivity({ seed: 42, sport, durationS });
      const decoder = new Decoder(Stream.fromByteArray(Array.from(g.bytes)));
      expect(decoder.checkIntegrity()).toBe(true);
      const { messages: m, errors } = decoder.read();
      expect(errors).toEqual([]);
      const messages = { recordMesgs: m.recordMesgs ?? [], lapMesgs: m.lapMesgs ?? [] };
      expect(messages.recordMesgs.length).toBe(durationS);
      expect(messages.lapMesgs.length).toBe(g.session.laps);
      const rec = messages.recordMesgs.at(-1)!;
      expect(rec.heartRate).toBeGreaterThan(40);
      expect(rec.positionLat).toBeTypeOf('number');
      expect(rec.distance).toBeCloseTo(g.session.totalDistanceM, 1);
      if (sport !== 'walking') expect(rec.power).toBeGreaterThan(0);
      const parsed = await new FitParser({ mode: 'list', force: false }).parseAsync(Buffer.from(g.bytes));
      expect(parsed.records?.length).toBe(durationS);
      const r = await pool.decode(g.bytes);
      if (!r.ok) throw new Error(r.reason);
      expect(r.summary).toMatchObject({
        sport,
        durationS,
        avgHr: g.session.avgHeartRate,
        maxHr: g.session.maxHeartRate,
        calories: g.session.totalCalories,
        elevationGainM: g.session.totalAscentM,
        records: durationS,
        laps: g.session.laps,
      });
      expect(r.summary.distanceM).toBeCloseTo(g.session.totalDistanceM, 1);
      // Laps add up to the session (MANIFEST: within 0.01 m).
      const lapSum = messages.lapMesgs.reduce((s, l) => s + Number(l.totalDistance), 0);
      expect(Math.abs(lapSum - g.session.totalDistanceM)).toBeLessThan(0.01 * messages.lapMesgs.length + 0.01);
    });
  }

  it('a 6-hour activity decodes in the worker while the event loop stays free', async () => {
    const g = generateFitActivity({ seed: 6, sport: 'cycling', durationS: 6 * 3600 });
    expect(g.bytes.length).toBeGreaterThan(400_000);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const r = await pool.decode(g.bytes);
    clearInterval(timer);
    if (!r.ok) throw new Error(r.reason);
    expect(r.summary.records).toBe(6 * 3600);
    // The main thread kept running timers during the decode (it was not blocked by it).
    expect(ticks).toBeGreaterThan(0);
  }, 120_000);
});
