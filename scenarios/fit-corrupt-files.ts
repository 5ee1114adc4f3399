import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PhoneDevice } from '../devices/phone/phone';
import { defineScenario } from '../harness/index';
import { FIT_CONTENT_TYPE } from '../protocol/files';

const FIT_DIR = join(import.meta.dirname, '..', 'fixtures', 'fit');

/** fixtures/fit/MANIFEST.md "Bad files": what the server must answer for each. */
const BROKEN = [
  { file: 'truncated.fit', status: 422, reason: 'File data exceeds input length' },
  { file: 'bad-crc.fit', status: 422, reason: 'File CRC mismatch' },
  { file: 'not-a-fit.fit', status: 422, reason: 'Incorrect header size' },
  { file: 'header-only.fit', status: 422, reason: 'File data exceeds input length' },
  // Zero bytes never get an upload URL: size must be at least 1.
  { file: 'empty.fit', status: 400, reason: '"size" must be a whole number of bytes >= 1' },
] as const;

/**
 * Every broken fixture is refused with its clear reason and lands in the phone's failed queue at
 * once (retrying cannot fix a corrupt file); its activity keeps exactly what the phone wrote, with
 * no objective column filled and no fit_file_key. A valid file uploaded alongside goes through.
 */
export default defineScenario({
  name: 'fit-corrupt-files',
  title: 'Broken FIT files: 422 with the parser reason, no partial activity',
  requires: { capabilities: ['files'] },
  tags: ['files', 'fit'],
  devices: { phone: { kind: 'phone' }, reader: { kind: 'vu' } },
  async workload({ devices: { phone, reader }, expect, note }) {
    const p = phone.driver('phone') as PhoneDevice;
    const files = [...BROKEN.map((b) => b.file), 'run-30min.fit'];
    for (const f of files) await phone.create('activities', { rpe: 4, notes: `upload of ${f}` }, `act-${f}`);
    await phone.sync('workout_complete');
    for (const f of files)
      await p.attachFile({
        table: 'activities',
        recordId: `act-${f}`,
        bytes: readFileSync(join(FIT_DIR, f)),
        fileName: f,
        contentType: FIT_CONTENT_TYPE,
      });
    await p.uploadsSettled();
    const st = p.uploadStatus()!;
    expect(st.done === 1, `the valid file is uploaded (${st.done})`);
    for (const b of BROKEN) {
      const f = st.failed.find((i) => i.recordId === `act-${b.file}`);
      expect(!!f, `${b.file} is in the failed queue`);
      expect(f?.lastStatus === b.status, `${b.file}: the server answered ${b.status} (got ${f?.lastStatus})`);
      expect(
        !!f?.lastError?.includes(b.reason),
        `${b.file}: the reason names the problem ("${b.reason}"): ${f?.lastError}`,
      );
      expect(f?.retryCount === 1, `${b.file}: not retried (a corrupt file stays corrupt): ${f?.retryCount} attempt(s)`);
    }
    note(`failed queue: ${st.failed.map((f) => `${f.fileName} → ${f.lastStatus}`).join(', ')}`);
    await phone.sync('manual');
    await reader.sync('app_launch');
    const rows = new Map((await reader.snapshot()).activities.map((r) => [r.id, r]));
    for (const b of BROKEN) {
      const r = rows.get(`act-${b.file}`);
      expect(
        !!r && r.fit_file_key === null && r.duration_s === null && r.sport === null && r.rpe === 4,
        `${b.file}: the activity is unchanged (no file key, no objective columns)`,
      );
    }
    const good = rows.get('act-run-30min.fit');
    expect(
      good?.duration_s === 1800 && good?.avg_hr === 144 && typeof good?.fit_file_key === 'string',
      'the valid file filled its activity from the session',
    );
  },
});
