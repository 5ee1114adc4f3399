/**
 * How busy the load generator itself is, so a saturated generator is never mistaken for a slow
 * server: CPU of this process (% of one core), event-loop utilisation and event-loop delay. And the
 * same CPU/RSS figures for another process (the server) read from /proc.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

export interface GeneratorSample {
  /** ms since the monitor started. */
  t: number;
  /** CPU of this process over the window, % of one core (may exceed 100 with GC/libuv threads). */
  cpuPct: number;
  /** Event-loop utilisation over the window (0..1). */
  elu: number;
  /** p99 / max event-loop delay over the window, ms. */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  rssMb: number;
}

/** Above these the generator, not the server, may be what limits the run. */
export const SATURATION = { cpuPct: 80, elu: 0.9, loopDelayP99Ms: 100 } as const;

export function isSaturated(s: Pick<GeneratorSample, 'cpuPct' | 'elu' | 'loopDelayP99Ms'>): string[] {
  const why: string[] = [];
  if (s.cpuPct > SATURATION.cpuPct)
    why.push(`generator CPU ${s.cpuPct.toFixed(0)} % of a core > ${SATURATION.cpuPct} %`);
  if (s.elu > SATURATION.elu) why.push(`event-loop utilisation ${s.elu.toFixed(2)} > ${SATURATION.elu}`);
  if (s.loopDelayP99Ms > SATURATION.loopDelayP99Ms)
    why.push(`event-loop delay p99 ${s.loopDelayP99Ms.toFixed(0)} ms > ${SATURATION.loopDelayP99Ms} ms`);
  return why;
}

/** Sampling interval of the delay monitor; what it reports includes this interval, which we subtract. */
const RESOLUTION_MS = 10;
const delay = (ns: number) => Math.max(0, ns / 1e6 - RESOLUTION_MS);

export class GeneratorMonitor {
  private readonly t0 = performance.now();
  private readonly h = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  private cpu = process.cpuUsage();
  private elu = performance.eventLoopUtilization();
  private last = performance.now();
  private readonly startCpu = process.cpuUsage();
  private readonly startElu = performance.eventLoopUtilization();
  private readonly whole = monitorEventLoopDelay({ resolution: RESOLUTION_MS });

  constructor() {
    this.h.enable();
    this.whole.enable();
  }

  /** The window since the last sample. */
  sample(): GeneratorSample {
    const now = performance.now();
    const cpu = process.cpuUsage(this.cpu);
    const elu = performance.eventLoopUtilization(this.elu);
    const wall = Math.max(1, now - this.last);
    const s: GeneratorSample = {
      t: now - this.t0,
      cpuPct: ((cpu.user + cpu.system) / 1000 / wall) * 100,
      elu: elu.utilization,
      loopDelayP99Ms: this.h.count ? delay(this.h.percentile(99)) : 0,
      loopDelayMaxMs: this.h.count ? delay(this.h.max) : 0,
      rssMb: process.memoryUsage.rss() / 1048576,
    };
    this.cpu = process.cpuUsage();
    this.elu = performance.eventLoopUtilization();
    this.last = now;
    this.h.reset();
    return s;
  }

  /** Since the monitor started: CPU ms used, % of a core, utilisation and delay over the whole run. */
  total(): { cpuMs: number; cpuPct: number; elu: number; loopDelayP99Ms: number; wallMs: number } {
    const wall = Math.max(1, performance.now() - this.t0);
    const cpu = process.cpuUsage(this.startCpu);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    return {
      cpuMs,
      cpuPct: (cpuMs / wall) * 100,
      elu: performance.eventLoopUtilization(this.startElu).utilization,
      loopDelayP99Ms: this.whole.count ? delay(this.whole.percentile(99)) : 0,
      wallMs: wall,
    };
  }

  stop(): void {
    this.h.disable();
    this.whole.disable();
  }
}

/** CPU time (ms) and RSS (MB) of process `pid` from /proc; undefined when it is gone or not Linux. */
export function procStats(pid: number): { cpuMs: number; rssMb: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name (which may contain spaces): utime is 14th, stime 15th.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return { cpuMs: ticks * 10, rssMb: rssKb / 1024 }; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

/** Samples another process's CPU % and RSS each `sample()` (e.g. the server child). */
export class ProcessSampler {
  private prev?: { cpuMs: number; at: number };
  private first?: { cpuMs: number; at: number };
  constructor(readonly pid: number) {
    const s = procStats(pid);
    if (s) this.prev = this.first = { cpuMs: s.cpuMs, at: performance.now() };
  }
  sample(): { cpuPct: number; rssMb: number } | undefined {
    const s = procStats(this.pid);
    const at = performance.now();
    if (!s || !this.prev) return undefined;
    const cpuPct = ((s.cpuMs - this.prev.cpuMs) / Math.max(1, at - this.prev.at)) * 100;
    this.prev = { cpuMs: s.cpuMs, at };
    return { cpuPct, rssMb: s.rssMb };
  }
  /** CPU % of one core since construction. */
  total(): { cpuMs: number; cpuPct: number } | undefined {
    const s = procStats(this.pid);
    if (!s || !this.first) return undefined;
    const cpuMs = s.cpuMs - this.first.cpuMs;
    return { cpuMs, cpuPct: (cpuMs / Math.max(1, performance.now() - this.first.at)) * 100 };
  }
}

/** The PostgreSQL postmaster listening on `port` (its command line carries `-p <port>`; the system one on 5432 may not). */
export function postmasterPid(port: number): number | undefined {
  let fallback: number | undefined;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const args = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      if (!/(^|\/)postgres$/.test(args[0] ?? '')) continue;
      const p = args.indexOf('-p');
      if (p >= 0 && Number(args[p + 1]) === port) return Number(d);
      if (p < 0 && port === 5432 && readFileSync(`/proc/${d}/stat`, 'utf8').includes(') S 1 ')) fallback = Number(d);
    } catch {
      /* gone */
    }
  }
  return fallback;
}

/** The postmaster of a PostgreSQL URL when the database runs on this machine (else undefined). */
export function localPostmaster(url: string | undefined): number | undefined {
  if (!url) return undefined;
  const u = new URL(url);
  if (!['localhost', '127.0.0.1', '::1', '[::1]'].includes(u.hostname)) return undefined;
  return postmasterPid(Number(u.port || 5432));
}

/** CPU of a process and its direct children (a postmaster and its backends), rescanned at each sample. */
export class ProcessTreeSampler {
  private prev: { cpuMs: number; at: number };
  private readonly first: { cpuMs: number; at: number };
  constructor(readonly rootPid: number) {
    this.prev = this.first = { cpuMs: this.cpuMs(), at: performance.now() };
  }
  private cpuMs(): number {
    let total = procStats(this.rootPid)?.cpuMs ?? 0;
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      try {
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        if (Number(f[1]) === this.rootPid) total += (Number(f[11]) + Number(f[12])) * 10;
      } catch {
        /* gone */
      }
    }
    return total;
  }
  /** CPU ms and % of one core since construction (backends that exited meanwhile are missed). */
  total(): { cpuMs: number; cpuPct: number } {
    const cpuMs = Math.max(0, this.cpuMs() - this.first.cpuMs);
    return { cpuMs, cpuPct: (cpuMs / Math.max(1, performance.now() - this.first.at)) * 100 };
  }
  /** CPU % of one core since the last sample (children that exited in between are missed). */
  sample(): number {
    const now = { cpuMs: this.cpuMs(), at: performance.now() };
    const pct = ((now.cpuMs - this.prev.cpuMs) / Math.max(1, now.at - this.prev.at)) * 100;
    this.prev = now;
    return Math.max(0, pct);
  }
}
