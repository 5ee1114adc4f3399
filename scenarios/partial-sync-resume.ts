import { defineScenario } from '../harness/index';
import type { DeviceHandle } from '../harness/runner/scenario';
import type { SyncOutcome } from '../protocol/device';

/** Small batches, so a few hundred rows make a push of many contract pushes (devices/common/push-batches.ts). */
const BATCH_BYTES = 24 * 1024;
const ROWS = 240;
const CORRUPT_ROWS = 80;
/** Each connection of the cut devices carries at most this share of a clean push's bytes. */
const CUT_SHARE = 0.4;

/**
 * RFC 0006 §5.4 partial sync recovery and checksums. A phone (the real WatermelonDB synchronize()),
 * a virtual user and a web client (Dexie in Chromium) each push a few hundred activities in many batches through a link that drops
 * every connection after 40 % of the push's bytes: a client that restarted from zero could never get
 * past that point, so completing the push proves each attempt resumed after the batches the server
 * had acknowledged; the bytes re-sent are measured against a clean push of the same size by a twin
 * device. Then bodies are corrupted in flight (the proxy's `corrupt` toxic): the server refuses each
 * altered push with 400 SYNC_ERR_DIGEST_MISMATCH and the reason (RFC 9530 Content-Digest, nothing
 * applied), and the devices retry until everything lands. Checkers: nothing lost, nothing twice, everyone converges.
 */
export default defineScenario({
  name: 'partial-sync-resume',
  title:
    'Partial sync recovery: a cut multi-batch push resumes after its last acknowledged batch; corrupt bodies refused and retried',
  tags: ['operations'],
  timeScale: 10,
  devices: {
    phone: { kind: 'phone', pushBatchBytes: BATCH_BYTES },
    twin: { kind: 'phone', pushBatchBytes: BATCH_BYTES },
    vu: { kind: 'vu', pushBatchBytes: BATCH_BYTES },
    vuTwin: { kind: 'vu', pushBatchBytes: BATCH_BYTES },
    web: { kind: 'web', pushBatchBytes: BATCH_BYTES },
    webTwin: { kind: 'web', pushBatchBytes: BATCH_BYTES },
  },
  // Syncs through the cut and the corruption take several attempts with the RFC backoff by design: the
  // fault:active bound is a fault-tolerance ceiling, not the RFC latency; the RFC's 2 s p95 holds on the
  // syncs outside the faults (fault:none, the RFC default).
  // A sync whose every attempt meets a corrupted batch gives up by design (then the next one resumes):
  // the fault:active success bound is a fault-tolerance floor, not the RFC target; the RFC's 99 % holds
  // on the syncs no fault overlapped (fault:none, the RFC default).
  thresholds: {
    'sync_latency_ms{path:phone-cloud,payload:small,fault:active}': ['p(95)<10000'],
    'sync_success_rate{fault:active}': ['rate>0.5'],
  },
  async workload({ devices, nemesis, expect, note, rng, serverUrl }) {
    const { phone, twin, vu, vuTwin, web, webTwin } = devices as Record<string, DeviceHandle>;
    const notes = () => Array.from({ length: 700 }, () => '0123456789abcdef'[rng.int(0, 15)]).join('');
    const write = async (d: DeviceHandle, n: number, tag: string) => {
      for (let i = 0; i < n; i++)
        await d.create('activities', {
          sport: 'run',
          started_at: 1_700_000_000_000 + i,
          duration_s: 1800 + i,
          notes: `${d.id} ${tag} ${i} ${notes()}`,
        });
    };
    for (const d of [phone!, twin!, vu!, vuTwin!, web!, webTwin!])
      expect((await d.sync('manual')).ok, `${d.id} syncs first`);

    // 1. The twins push the same amount of data on a clean link: what one push costs.
    const clean: Record<string, SyncOutcome> = {};
    for (const d of [twin!, vuTwin!, webTwin!]) {
      await write(d, ROWS, 'clean');
      const o = await d.sync('manual');
      expect(o.ok && (o.pushBatches ?? 1) > 3, `${d.id} pushes ${ROWS} rows in several batches (${o.pushBatches})`);
      clean[d.id] = o;
    }

    // 2. The same push through a link that carries at most 40 % of it per connection.
    for (const [d, base] of [
      [phone!, clean.twin!],
      [vu!, clean.vuTwin!],
      [web!, clean.webTwin!],
    ] as const) {
      await write(d, ROWS, 'cut');
      const cutAt = Math.round(base.bytesUp * CUT_SHARE);
      const logged = webPushes(d).length;
      const cut = await nemesis.start({ kind: 'limitData', device: d.id, bytes: cutAt, direction: 'upstream' });
      const o = await d.sync('manual');
      await cut.stop();
      // Chromium resends a request whose kept-alive connection closed before any answer by itself, so the
      // web engine never sees those cuts: its app server's push log counts them, and every body sent.
      const sent = webPushes(d).slice(logged);
      const bytesUp = d.raw.kind === 'web' ? sent.reduce((n, p) => n + p.bytes, 0) : o.bytesUp;
      const resent = bytesUp - base.bytesUp;
      const perBatch = base.bytesUp / (base.pushBatches ?? 1);
      // The web client counts each batch's attempts, so its attempts are not the cuts.
      const cuts = (o.retries?.length ?? 0) + sent.filter((p) => p.error).length;
      expect(cuts > 0, `${d.id}'s push was cut mid-way (${cuts} retries)`);
      expect(
        o.ok,
        `${d.id}'s push of ${base.bytesUp} bytes completed although each connection carried at most ${cutAt}: every attempt resumed after the batches already acknowledged (${o.error ?? 'ok'})`,
      );
      expect((await d.pending()) === 0, `${d.id} has nothing left to push after the cut`);
      // From zero, attempt k would re-send everything attempt k-1 got through: at least cutAt per retry.
      expect(
        resent < cutAt,
        `${d.id}'s pushes carried ${resent} bytes more than a clean push, less than one connection's worth (${cutAt}): no restart from zero`,
      );
      note(
        `${d.id}: ${ROWS} rows, ${base.pushBatches} batches, ${(base.bytesUp / 1024).toFixed(1)} KB on a clean link; cut every ${(cutAt / 1024).toFixed(1)} KB: ${o.attempts} attempts, ${cuts} requests cut; its pushes (cut ones included on web) carried ${(bytesUp / 1024).toFixed(1)} KB, ${(resent / 1024).toFixed(1)} KB (${(resent / perBatch).toFixed(2)} batches) of it sent before; the ${cuts} cut requests lost at most one batch each (≈ ${((cuts * perBatch) / 1024).toFixed(1)} KB), where restarting from zero could never have finished`,
      );
    }

    // 3. Push bodies corrupted in flight until every row is in. Upstream only: Node 20's fetch hangs on a
    // corrupt multi-chunk gzip response until the request timeout (30 s each; sync-http.ts untilAborted).
    const mismatchesBefore = await serverDigestMismatches(serverUrl);
    let deviceMismatches = 0;
    let otherRetries = 0;
    for (const d of [phone!, vu!, web!]) {
      const fault = await nemesis.start({ kind: 'corrupt', device: d.id, percent: 30, direction: 'upstream' });
      await write(d, CORRUPT_ROWS, 'corrupt');
      let o: SyncOutcome | undefined;
      let syncs = 0;
      let mine = 0;
      for (; syncs < 8 && !(o?.ok && mine > 0); syncs++) {
        o = await d.sync('manual');
        mine += (o.retries ?? []).filter((r) => r.code === 'SYNC_ERR_DIGEST_MISMATCH').length;
        // The last attempt of a sync that gave up is its error, not a retry.
        if (!o.ok && /Content-Digest/.test(o.error ?? '')) mine++;
        otherRetries += (o.retries ?? []).filter((r) => r.code !== 'SYNC_ERR_DIGEST_MISMATCH').length;
        if (o.ok && mine === 0) await write(d, 20, `corrupt-more-${syncs}`);
        if (!o.ok && o.error) note(`${d.id}: a sync gave up after ${o.attempts} attempts (${o.error.slice(0, 160)})`);
      }
      await fault.stop();
      deviceMismatches += mine;
      expect(mine > 0, `${d.id}: corrupted pushes were refused with 400 SYNC_ERR_DIGEST_MISMATCH (${mine})`);
      expect(!!o?.ok, `${d.id}: retried until the push landed intact (${syncs} syncs)`);
      if (!o?.ok) expect((await d.sync('manual')).ok, `${d.id} syncs once the link is clean`);
      expect((await d.pending()) === 0, `${d.id} has nothing left to push after the corruption`);
    }
    const serverMismatches = (await serverDigestMismatches(serverUrl)) - mismatchesBefore;
    expect(
      serverMismatches === deviceMismatches,
      `every refusal the server counted (${serverMismatches}) reached a device as a retry (${deviceMismatches}): none was answered as applied`,
    );
    note(
      `corruption of 30 % of checksummed push bodies: ${serverMismatches} pushes refused with SYNC_ERR_DIGEST_MISMATCH and retried, ${otherRetries} other retries`,
    );

    for (const d of [twin!, vuTwin!, webTwin!, phone!, vu!, web!])
      expect((await d.sync('manual')).ok, `${d.id} final sync`);
    note(
      'proved: a multi-batch push cut every 40 % of its bytes completed on phone, vu and web, re-sending less than one connection’s worth (each attempt resumed after the acknowledged batches, no restart from zero); corrupted bodies were refused with the reason (400 SYNC_ERR_DIGEST_MISMATCH, nothing applied) and retried until intact; checkers below show nothing lost, nothing twice and convergence',
    );
  },
});

/** The web device's push log (every push body its page sent, cut ones included); none for other kinds. */
function webPushes(d: DeviceHandle) {
  return d.raw.kind === 'web' ? d.driver('web').appServer.pushes : [];
}

/** sync_errors_total{code="SYNC_ERR_DIGEST_MISMATCH"} of the reference server (0 before the first one). */
async function serverDigestMismatches(serverUrl: string): Promise<number> {
  const text = await (await fetch(`${serverUrl}/metrics`)).text();
  const m = /^sync_errors_total\{code="SYNC_ERR_DIGEST_MISMATCH"\} (\d+)/m.exec(text);
  return m ? Number(m[1]) : 0;
}
