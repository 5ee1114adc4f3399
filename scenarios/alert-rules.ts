import { defineScenario } from '../harness/index';
import { alertTraffic, CONFLICT_ROUNDS, RACE_LATENCY_MS, SLOW_LATENCY_MS } from './_alert-rules';

/**
 * RFC 0006 §5.3's alert rules fire on real causes: a server outage (the process killed) makes syncs fail
 * (sync-failure-rate, critical → PagerDuty), two phones' pushes of the same row race (conflict-rate,
 * warning → Slack), and a slow link makes syncs take over 10 s (sync-latency, info → Dashboard). The
 * same traffic on a healthy stack is `alert-rules-quiet`, where none fires.
 */
export default defineScenario({
  name: 'alert-rules',
  title: 'RFC §5.3 alerts fire on a server outage, racing edits and a slow link',
  tags: ['operations', 'faults'],
  // The RFC backoff of the outage's failing syncs (1+2+4+8+16 s) at 20x; latency toxics are wall ms.
  timeScale: 20,
  server: { process: 'child' }, // serverCrash kills the server's own process
  devices: { phoneA: { kind: 'phone' }, phoneB: { kind: 'phone' }, vu: { kind: 'vu' } },
  expectAlerts: { fired: ['sync-failure-rate', 'conflict-rate', 'sync-latency'] },
  // Loosened here only, each on purpose: these are the causes the alerts must see. Each still bounds
  // the run, so a broken stack (syncs failing outside the outage, a conflict on every sync, a sync
  // hitting the 30 s request timeout) fails it.
  thresholds: {
    // The outage fails its syncs by design (RFC: > 99 %); every other sync succeeds.
    sync_success_rate: ['rate>0.7'],
    // Phone B's pushes race phone A's by design (RFC: < 1 %).
    conflict_rate: ['rate<0.5'],
    // The slow phase is meant to take over 10 s per sync, for the latency alert (RFC: p95 < 2 s).
    'sync_latency_ms{path:phone-cloud,payload:small}': ['p(95)<30000'],
  },
  async workload(ctx) {
    const f = await alertTraffic(ctx, true);
    const { expect, note } = ctx;
    expect(
      f.outage.failed === f.outage.syncs,
      `every sync during the server outage failed (${f.outage.failed}/${f.outage.syncs})`,
    );
    expect(f.all.failed === f.outage.failed, `no sync failed outside the outage (${f.all.failed - f.outage.failed})`);
    expect(
      f.race.conflicted === 2 * CONFLICT_ROUNDS && f.race.byA === 0,
      `each racing push of phone B and the vu was reported as a conflict, phone A's never (${f.race.conflicted}/${f.race.syncs} syncs)`,
    );
    expect(
      f.slow.over10s === f.slow.syncs,
      `every sync over the slow link took over 10 s (${f.slow.secs.join(', ')} s)`,
    );
    note(
      `outage: ${f.outage.failed}/${f.outage.syncs} syncs failed (server killed); race: ${f.race.conflicted}/${f.race.syncs} syncs reported conflicts (phone B and the vu ${RACE_LATENCY_MS} ms each way); slow link ${SLOW_LATENCY_MS} ms each way: syncs took ${f.slow.secs.join(', ')} s`,
    );
    note(
      'proved: each RFC §5.3 alert fires for its own cause (sync-failure-rate from a server outage, conflict-rate from racing pushes of one row, sync-latency from a slow link) and is reported with its severity; alert-rules-quiet runs the same traffic healthy and none fires',
    );
  },
});
