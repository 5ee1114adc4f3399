/**
 * FIT ingest costs (issue 13's closing figures):
 *  - decode time per MB: generated activities from 30 min to 6 h, decoded by the server's own path
 *    (FitDecodePool: fit-file-parser in a worker, @garmin/fitsdk cross-check), ms per MB of FIT, the
 *    median of `--repeat` decodes after one warm-up;
 *  - upload throughput: presigned PUTs (the server's ObjectStoreClient, @aws-sdk/s3-request-presigner)
 *    into the embedded S3-compatible store, against writing the same bytes straight to a file: the
 *    ratio store/file (1 = as fast as a file write).
 *
 *   npx tsx bench/fit-upload.ts [--repeat 5] [--upload-mib 16] [--uploads 8]
 *
 * Writes bench/results/fit-upload.json. The load average at start is recorded because the box is shared.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateFitActivity } from '../fixtures/fit/generator';
import { EmbeddedObjectStore } from '../harness/services/object-store/index';
import { FitDecodePool } from '../server/files/fit-decode';
import { ObjectStoreClient } from '../server/files/object-store';

const { values: args } = parseArgs({
  options: {
    repeat: { type: 'string', default: '5' },
    'upload-mib': { type: 'string', default: '16' },
    uploads: { type: 'string', default: '8' },
  },
});
const REPEAT = Number(args.repeat);
const UPLOAD_BYTES = Number(args['upload-mib']) * 1024 * 1024;
const UPLOADS = Number(args.uploads);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const MB = 1e6;

async function decodeBench() {
  const pool = new FitDecodePool(1);
  const rows = [];
  try {
    for (const [label, durationS] of [
      ['30min', 1800],
      ['2h', 7200],
      ['6h', 21600],
    ] as const) {
      const { bytes } = generateFitActivity({ seed: 13, sport: 'cycling', durationS });
      const first = await pool.decode(bytes);
      if (!first.ok) throw new Error(`generated ${label} FIT did not decode: ${first.parser}: ${first.reason}`);
      const totals: number[] = [];
      const parses: number[] = [];
      for (let i = 0; i < REPEAT; i++) {
        const t0 = performance.now();
        const r = await pool.decode(bytes);
        const wall = performance.now() - t0;
        if (!r.ok) throw new Error(`decode failed: ${r.reason}`);
        totals.push(wall);
        parses.push(r.parseMs);
      }
      const mb = bytes.byteLength / MB;
      rows.push({
        activity: label,
        records: first.summary.records,
        bytes: bytes.byteLength,
        decodeMsMedian: median(totals),
        parseMsMedian: median(parses),
        msPerMb: median(totals) / mb,
      });
    }
  } finally {
    await pool.close();
  }
  return rows;
}

async function uploadBench() {
  const dir = mkdtempSync(join(tmpdir(), 'bench-fit-upload-'));
  const store = await new EmbeddedObjectStore({ buckets: ['bench'], maxObjectBytes: UPLOAD_BYTES + 1024 }).start();
  const client = new ObjectStoreClient({ endpoint: store.url, bucket: 'bench', ...store.credentials });
  // Random bytes: nothing on the way may compress them.
  const body = Buffer.alloc(UPLOAD_BYTES);
  for (let i = 0; i < body.length; i += 4) body.writeUInt32LE((Math.imul(i, 2654435761) ^ (i >>> 7)) >>> 0, i);
  try {
    const put = async (i: number) => {
      const { uploadUrl } = await client.presignPut(`fit/${i}.fit`, 'application/octet-stream', body.length, 'bench');
      const res = await fetch(uploadUrl, {
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(body.length) },
        body,
      });
      if (!res.ok) throw new Error(`PUT answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
    };
    await put(-1);
    await writeFile(join(dir, 'warm.fit'), body);
    const storeMs: number[] = [];
    const fileMs: number[] = [];
    for (let i = 0; i < UPLOADS; i++) {
      let t0 = performance.now();
      await put(i);
      storeMs.push(performance.now() - t0);
      t0 = performance.now();
      await writeFile(join(dir, `${i}.fit`), body);
      fileMs.push(performance.now() - t0);
    }
    const mib = body.length / 1024 / 1024;
    const storeMiBps = mib / (median(storeMs) / 1000);
    const fileMiBps = mib / (median(fileMs) / 1000);
    return {
      objectMiB: mib,
      uploads: UPLOADS,
      storeMsMedian: median(storeMs),
      fileMsMedian: median(fileMs),
      storeMiBps,
      fileMiBps,
      ratio: storeMiBps / fileMiBps,
      note: 'presign + PUT over loopback HTTP into the in-process store (SigV4 checked, bytes kept in memory) vs fs.writeFile to tmpdir',
    };
  } finally {
    await store.stop();
    client.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const loadAtStart = loadavg();
const decode = await decodeBench();
const upload = await uploadBench();
const result = {
  bench: 'fit-upload',
  at: new Date().toISOString(),
  machine: { cpus: cpus().length, loadavg: loadAtStart, node: process.version },
  // The 6-hour file is the steady state; small files are dominated by the worker round trip.
  decode: { rows: decode, msPerMb: decode.at(-1)!.msPerMb },
  upload,
};
const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'fit-upload.json');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
for (const r of decode)
  console.log(
    `decode ${r.activity}: ${(r.bytes / MB).toFixed(2)} MB, ${r.records} records, ${r.decodeMsMedian.toFixed(0)} ms → ${r.msPerMb.toFixed(0)} ms/MB`,
  );
console.log(
  `upload ${upload.objectMiB} MiB: store ${upload.storeMiBps.toFixed(0)} MiB/s, file ${upload.fileMiBps.toFixed(0)} MiB/s, ratio ${upload.ratio.toFixed(2)}`,
);
console.log(`wrote ${out}`);
