/**
 * Decodes one FIT file off the event loop (server/files/fit-decode.ts runs this in a worker thread):
 * a 6-hour file takes a noticeable fraction of a second to parse, and sync requests must not wait
 * behind it. Plain JS so the worker needs no TypeScript loader in any mode (tsx, vitest, bundled).
 *
 * Acceptance follows fixtures/fit/MANIFEST.md: fit-file-parser with force:false (the default force:true
 * skips the CRC checks and returns corrupt data silently), its string and Error rejections both
 * normalised to a reason; then @garmin/fitsdk as the integrity cross-check (checkIntegrity() true
 * and read() without errors); then the application check that an activity has a session and records.
 */
import { parentPort } from 'node:worker_threads';
import { Decoder, Stream } from '@garmin/fitsdk';
import FitParser from 'fit-file-parser';

function reasonOf(e) {
  if (typeof e === 'string') return e;
  if (e instanceof Error) return e.message;
  return String(e);
}

async function decode(bytes) {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const t0 = performance.now();
  let parsed;
  try {
    parsed = await new FitParser({ mode: 'list', force: false }).parseAsync(buf);
  } catch (e) {
    return { ok: false, parser: 'fit-file-parser', reason: reasonOf(e) };
  }
  const parseMs = performance.now() - t0;
  const decoder = new Decoder(Stream.fromBuffer(buf));
  if (!decoder.isFIT()) return { ok: false, parser: '@garmin/fitsdk', reason: 'input is not a FIT file' };
  if (!decoder.checkIntegrity()) return { ok: false, parser: '@garmin/fitsdk', reason: 'FIT integrity check failed' };
  const { messages, errors } = decoder.read();
  if (errors.length > 0) return { ok: false, parser: '@garmin/fitsdk', reason: errors.map(reasonOf).join('; ') };
  const sessions = parsed.sessions ?? [];
  const records = parsed.records ?? [];
  if (sessions.length === 0 || records.length === 0) {
    return {
      ok: false,
      parser: 'application',
      reason: `not an activity: ${sessions.length} session(s), ${records.length} record(s)`,
    };
  }
  const sdkSessions = messages.sessionMesgs?.length ?? 0;
  const sdkRecords = messages.recordMesgs?.length ?? 0;
  if (sdkSessions !== sessions.length || sdkRecords !== records.length) {
    return {
      ok: false,
      parser: 'cross-check',
      reason: `decoders disagree: fit-file-parser ${records.length} records/${sessions.length} sessions, @garmin/fitsdk ${sdkRecords}/${sdkSessions}`,
    };
  }
  const s = sessions[0];
  const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const start = s.start_time instanceof Date ? s.start_time.getTime() : null;
  return {
    ok: true,
    summary: {
      sport: typeof s.sport === 'string' ? s.sport : null,
      subSport: typeof s.sub_sport === 'string' ? s.sub_sport : null,
      startedAt: start,
      durationS: num(s.total_elapsed_time),
      distanceM: num(s.total_distance),
      avgHr: num(s.avg_heart_rate),
      maxHr: num(s.max_heart_rate),
      calories: num(s.total_calories),
      elevationGainM: num(s.total_ascent),
      records: records.length,
      laps: (parsed.laps ?? []).length,
      sessions: sessions.length,
    },
    parseMs,
    totalMs: performance.now() - t0,
  };
}

parentPort.on('message', async ({ id, bytes }) => {
  try {
    parentPort.postMessage({ id, result: await decode(bytes) });
  } catch (e) {
    // A parser bug on some input: still an answer, never a dead worker.
    parentPort.postMessage({ id, result: { ok: false, parser: 'fit-file-parser', reason: reasonOf(e) } });
  }
});
