import { defineScenario } from '../harness/index';
import { curveTable, DEFAULT_LEVELS, knee, serverByPhase, steppedStages } from '../harness/load/index';
import { driveLoad } from './_load';

const { stages, phases } = steppedStages(DEFAULT_LEVELS, 2000, 8000);

/**
 * The concurrency curve: closed-model VUs stepped 10 → 2000 (each level ramped to, then held), with
 * syncs/s, latency percentiles, errors and the generator's own CPU per level, and the knee. Where the
 * RFC's 2 s p95 stops holding is the machine's capacity; the table is in the result's notes.
 */
export default defineScenario({
  name: 'load-ramp',
  title: 'Concurrency curve 10 → 2000 VUs and its knee',
  tags: ['load', 'performance'],
  server: { process: 'child' },
  // The harness judges a run by its devices' history: one observer syncs before and after the load.
  devices: { observer: { kind: 'vu' } },
  load: { users: 1000, devicesPerUser: 2, stages },
  thresholds: {
    vu_lost_writes: ['count==0'],
    vu_diverged_devices: ['count==0'],
  },
  timeoutMs: 15 * 60_000,
  async workload(ctx) {
    await ctx.devices.observer!.sync();
    const { run, machine } = await driveLoad(ctx, {
      executor: { executor: 'ramping-vus', startVUs: 0, stages },
      devicesPerUser: 2,
      workers: 2,
      phases,
      lostWriteSample: 10,
      requestTimeoutMs: 60_000,
    });
    ctx.metric('concurrent_syncs', run.summary.maxInFlight);
    for (const line of curveTable(
      run.phases,
      serverByPhase(
        machine.map((m) => ({ at: m.at, cpuPct: m.serverCpuPct, rssMb: m.serverRssMb })),
        phases,
        run.summary.startedAt,
      ),
    ))
      ctx.note(line);
    const k = knee(run.phases);
    ctx.note(
      `knee: ${k.level ? `${k.level} VUs (${k.why})` : 'none up to 2000 VUs'}; most VUs within the RFC latency (p95 < 2 s, ≤ 1 % errors): ${k.maxWithinRfc ?? 'none'}`,
    );
    await ctx.devices.observer!.sync();
    if (k.maxWithinRfc) ctx.metric('vus_within_rfc_latency', Number(k.maxWithinRfc));
    for (const r of run.phases) {
      ctx.metric('curve_syncs_per_sec', r.syncsPerSec, { vus: r.phase });
    }
  },
});
