import { defineScenario } from '../harness/index';
import { alertTraffic } from './_alert-rules';

/**
 * The traffic of `alert-rules` on a healthy stack: no outage, the two phones edit the shared row in
 * turn (each pulls the other's edit before making its own), no slow link. No §5.3 alert fires and the
 * RFC thresholds hold unchanged: the alerts in `alert-rules` come from their causes, not the traffic.
 */
export default defineScenario({
  name: 'alert-rules-quiet',
  title: 'RFC §5.3 alerts stay quiet on the same traffic without its causes',
  tags: ['operations'],
  timeScale: 20,
  devices: { phoneA: { kind: 'phone' }, phoneB: { kind: 'phone' }, vu: { kind: 'vu' } },
  expectAlerts: { quiet: ['sync-failure-rate', 'conflict-rate', 'sync-latency'] },
  async workload(ctx) {
    const f = await alertTraffic(ctx, false);
    const { expect, note } = ctx;
    expect(f.all.failed === 0, `no sync failed (${f.all.failed}/${f.all.syncs})`);
    expect(f.race.conflicted === 0, `edits in turn reported no conflict (${f.race.conflicted}/${f.race.syncs})`);
    expect(f.slow.over10s === 0, `no sync took over 10 s (${f.slow.secs.join(', ')} s)`);
    note(
      `${f.all.syncs} syncs, 0 failed; ${f.race.syncs} syncs around the shared row, 0 conflicts; the phase that is slow in alert-rules took ${f.slow.secs.join(', ')} s`,
    );
    note(
      'proved: the traffic of alert-rules without its causes (no outage, edits in turn, no slow link) raises no RFC §5.3 alert and meets the RFC thresholds unchanged',
    );
  },
});
