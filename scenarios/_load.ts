import type { ScenarioContext } from '../harness/index';
import { type LoadOptions, type LoadRun, ProcessSampler, ProcessTreeSampler, runLoad } from '../harness/load/index';

/** One sample of the machine during a load run: server and harness process, and the load average. */
export interface MachineSample {
  /** Wall epoch ms. */
  at: number;
  serverCpuPct?: number;
  serverRssMb?: number;
  /** PostgreSQL (postmaster and backends) over the sample's window, % of one core. */
  postgresCpuPct?: number;
  /** This process (the scenario's devices, proxies, object store) over the window, % of one core. */
  harnessCpuPct: number;
  harnessRssMb: number;
  loadAvg1: number;
}

export interface DrivenLoad {
  run: LoadRun;
  machine: MachineSample[];
  /** Server CPU (% of one core) over the whole run, when the server is a child process. */
  serverCpuPct?: number;
}

/**
 * The @load scenarios' common part: run the load generator against the scenario's server, sample the
 * server's and the harness's CPU and RSS meanwhile, merge the generator's histograms into the run's
 * metrics (so thresholds judge every sample) and note what a reader needs to judge the figures:
 * throughput, per-trigger latency, lost writes, and whether the generator itself was the limit.
 */
export async function driveLoad(
  ctx: ScenarioContext,
  opts: Omit<LoadOptions, 'serverUrl' | 'seed'>,
  sampleMs = 1000,
): Promise<DrivenLoad> {
  const pid = ctx.serverPid?.();
  const server = pid ? new ProcessSampler(pid) : undefined;
  const pm = ctx.postgresPid?.();
  const postgres = pm ? new ProcessTreeSampler(pm) : undefined;
  const { cpus, loadavg } = await import('node:os');
  const machine: MachineSample[] = [];
  let harnessCpu = process.cpuUsage();
  let last = performance.now();
  const timer = setInterval(() => {
    const s = server?.sample();
    const pg = postgres?.sample();
    const hc = process.cpuUsage(harnessCpu);
    harnessCpu = process.cpuUsage();
    const now = performance.now();
    const harnessCpuPct = ((hc.user + hc.system) / 1000 / Math.max(1, now - last)) * 100;
    last = now;
    machine.push({
      at: Date.now(),
      ...(s ? { serverCpuPct: Math.round(s.cpuPct), serverRssMb: Math.round(s.rssMb) } : {}),
      ...(pg === undefined ? {} : { postgresCpuPct: pg }),
      harnessCpuPct,
      harnessRssMb: Math.round(process.memoryUsage.rss() / 1048576),
      loadAvg1: loadavg()[0]!,
    });
  }, sampleMs);
  let run: LoadRun;
  try {
    run = await runLoad({ ...opts, serverUrl: ctx.serverUrl, seed: ctx.seed });
  } finally {
    clearInterval(timer);
  }
  const serverCpuPct = server?.total()?.cpuPct;
  ctx.mergeMetrics(run.series);
  const s = run.summary;
  for (const m of machine) {
    if (m.serverCpuPct !== undefined) ctx.metric('server_cpu_pct', m.serverCpuPct);
    if (m.serverRssMb !== undefined) ctx.metric('server_rss_mb', m.serverRssMb);
    ctx.metric('harness_rss_mb', m.harnessRssMb);
  }
  const ms = (x: number) => `${Math.round(x)} ms`;
  ctx.note(
    `${s.vus} VUs (${s.workers} generator process${s.workers > 1 ? 'es' : ''}): ${s.iterations} syncs in ${(s.durationMs / 1000).toFixed(1)} s = ${s.syncsPerSec}/s, ${s.dropped} dropped, max ${s.maxInFlight} in flight, success ${(s.successRate * 100).toFixed(2)} %`,
  );
  ctx.note(
    `vu sync latency p50 ${ms(s.latency.p50)}, p95 ${ms(s.latency.p95)}, p99 ${ms(s.latency.p99)}, max ${ms(s.latency.max)}`,
  );
  for (const [t, l] of Object.entries(s.byTrigger))
    ctx.note(
      `  ${t}: ${l.count} syncs, p50 ${ms(l.p50)}, p95 ${ms(l.p95)}, p99 ${ms(l.p99)}, success ${(l.successRate * 100).toFixed(2)} %`,
    );
  ctx.note(
    `lost writes: ${s.lostWrites.lost} of the rows of ${s.lostWrites.checkedUsers} checked users (${s.lostWrites.diverged} devices diverged, ${s.lostWrites.unverified} users unverified)`,
  );
  for (const e of s.lostWrites.examples) ctx.note(`  ${e}`);
  // Connection-level failures (a socket closed or reset, nothing answered) are told apart from the
  // server's HTTP answers: on a starved loopback they may be the client's keep-alive race, not the server.
  const network = Object.entries(s.errors).filter(([k]) => !/→ \d|→ N/.test(k));
  const netCount = network.reduce((a, [, v]) => a + v, 0);
  if (s.failed)
    ctx.note(
      `failed syncs: ${s.failed}, of which ${netCount} connection-level (no HTTP answer) and ${s.failed - netCount} HTTP errors from the server`,
    );
  for (const [k, v] of Object.entries(s.errors).slice(0, 5)) ctx.note(`  error ×${v}: ${k}`);
  const g = s.generator;
  const peak = (f: (m: MachineSample) => number | undefined) => Math.max(0, ...machine.map((m) => f(m) ?? 0));
  ctx.note(
    `generator: ${g.cpuPct} % of a core (busiest process ${g.maxProcessCpuPct} %), ${g.cpuMsPer1000Syncs} CPU ms per 1000 syncs, event-loop delay p99 ${g.loopDelayP99Ms} ms, RSS ${g.rssMb} MB (${g.memoryPerVuKb} KB per VU); server: ${serverCpuPct === undefined ? 'in process' : `${Math.round(serverCpuPct)} % of a core, RSS peak ${peak((m) => m.serverRssMb)} MB`}; load average peak ${peak((m) => m.loadAvg1).toFixed(2)}`,
  );
  // Where the machine's CPU went while the executor ran (setup excluded, as in the generator's own
  // figure), per 1000 syncs: every process shares the cores, so the throughput the run can reach is
  // the cores' CPU over the sum, whichever part is the server's.
  const during = machine.filter((m) => m.at > s.startedAt + sampleMs && m.at <= s.startedAt + s.durationMs);
  const per1000 = (pct: (m: MachineSample) => number | undefined) => {
    const xs = during.map(pct).filter((x): x is number => x !== undefined);
    if (!xs.length || !s.iterations) return undefined;
    const cpuMs = ((xs.reduce((a, b) => a + b, 0) / xs.length) * s.durationMs) / 100;
    return Math.round((cpuMs / s.iterations) * 1000);
  };
  const budget: Array<[string, number | undefined]> = [
    ['generator', g.cpuMsPer1000Syncs],
    ['server', per1000((m) => m.serverCpuPct)],
    ['PostgreSQL', per1000((m) => m.postgresCpuPct)],
    ['harness (devices, proxies, object store)', per1000((m) => m.harnessCpuPct)],
  ];
  const known = budget.filter((b): b is [string, number] => b[1] !== undefined);
  const sum = known.reduce((a, [, v]) => a + v, 0);
  ctx.note(
    `CPU ms per 1000 syncs: ${known.map(([k, v]) => `${k} ${v}`).join(', ')}; sum ${sum} → at most ${Math.round((cpus().length * 1_000_000) / Math.max(1, sum))} syncs/s on ${cpus().length} cores`,
  );
  for (const [k, v] of known) ctx.metric('load_cpu_ms_per_1000_syncs', v, { process: k.split(' ')[0]! });
  if (g.saturated)
    ctx.note(
      g.starved
        ? `WARNING: the load generator's event loop was held up (${g.reasons.join('; ')}) while it used under half a core: the machine was oversubscribed (load average peak ${peak((m) => m.loadAvg1).toFixed(1)} on ${cpus().length} cores), so the measured latency includes waiting for a CPU, of generator and server alike`
        : `WARNING: the load generator was saturated (${g.reasons.join('; ')}): part of the measured latency is the generator's, not the server's; spread it over more workers`,
    );
  ctx.metric('generator_saturated', g.saturated ? 1 : 0);
  return { run, machine, ...(serverCpuPct !== undefined ? { serverCpuPct } : {}) };
}

/** Workers for a VU count: one process holds a few hundred VUs; beyond that two keep its event loop responsive. */
export const workersFor = (vus: number) => (vus >= 500 ? 2 : 1);
