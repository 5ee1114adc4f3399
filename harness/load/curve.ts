/**
 * The concurrency curve: closed-model VUs stepped through levels (each ramped to, then held), one
 * row per level, and its knee — where adding VUs stops adding throughput or breaks the RFC latency.
 * Shared by the `load-ramp` scenario and `make bench-load`.
 */
import type { Stage } from './executors';
import type { PhaseRow } from './generator';

export const RFC_P95_MS = 2000;
export const DEFAULT_LEVELS = [10, 50, 100, 250, 500, 1000, 1500, 2000];

/** Stages and the named plateaus (`phase` = the level's VU count) for `levels`. */
export function steppedStages(
  levels: readonly number[],
  rampMs: number,
  holdMs: number,
): { stages: Stage[]; phases: Array<{ name: string; fromMs: number; toMs: number }> } {
  return {
    stages: levels.flatMap((target) => [
      { durationMs: rampMs, target },
      { durationMs: holdMs, target },
    ]),
    phases: levels.map((vus, i) => ({
      name: String(vus),
      fromMs: i * (rampMs + holdMs) + rampMs,
      toMs: (i + 1) * (rampMs + holdMs),
    })),
  };
}

export interface Knee {
  /** First level where the server stopped keeping up, and why. */
  level?: string;
  why?: string;
  /** Most VUs whose level held p95 < 2 s with ≤ 1 % errors. */
  maxWithinRfc?: string;
}

/**
 * The knee: the first level with p95 over the RFC's 2 s, more than 1 % errors, or throughput growing
 * less than 10 % for the added VUs (more VUs only queue).
 */
export function knee(rows: readonly PhaseRow[]): Knee {
  const within = rows.filter((r) => r.p95 < RFC_P95_MS && r.errorRate <= 0.01 && r.syncs > 0);
  const maxWithinRfc = within.length ? within[within.length - 1]!.phase : undefined;
  for (let i = 1; i < rows.length; i++) {
    const r = rows[i]!;
    const prev = rows[i - 1]!;
    if (r.p95 >= RFC_P95_MS)
      return { level: r.phase, why: `p95 ${Math.round(r.p95)} ms ≥ ${RFC_P95_MS} ms`, maxWithinRfc };
    if (r.errorRate > 0.01) return { level: r.phase, why: `${(r.errorRate * 100).toFixed(1)} % errors`, maxWithinRfc };
    if (r.syncsPerSec < prev.syncsPerSec * 1.1)
      return {
        level: r.phase,
        why: `${r.syncsPerSec} syncs/s vs ${prev.syncsPerSec}/s at ${prev.phase} VUs: added VUs only queue`,
        maxWithinRfc,
      };
  }
  return { maxWithinRfc };
}

/** Server figures per level, when the server's process was sampled. */
export type ServerByPhase = Record<string, { cpuPct: number; rssMb: number }>;

/** One row per level; server and PostgreSQL columns when they were sampled. */
export function curveTable(rows: readonly PhaseRow[], server?: ServerByPhase, pg?: ServerByPhase): string[] {
  const sv = server && Object.keys(server).length > 0;
  const db = pg && Object.keys(pg).length > 0;
  const n = (x: number | undefined) => (x === undefined ? '–' : String(Math.round(x)));
  return [
    `| VUs | syncs/s | p50 ms | p95 ms | p99 ms | errors | mean in flight | generator CPU % |${sv ? ' server CPU % | server RSS MB |' : ''}${db ? ' PostgreSQL CPU % |' : ''}`,
    `|---:|---:|---:|---:|---:|---:|---:|---:|${sv ? '---:|---:|' : ''}${db ? '---:|' : ''}`,
    ...rows.map((r) => {
      const s = server?.[r.phase];
      return `| ${r.phase} | ${r.syncsPerSec} | ${Math.round(r.p50)} | ${Math.round(r.p95)} | ${Math.round(r.p99)} | ${(r.errorRate * 100).toFixed(2)} % | ${r.meanInFlight} | ${r.generatorCpuPct}${r.saturated ? ' (saturated)' : ''} |${sv ? ` ${n(s?.cpuPct)} | ${n(s?.rssMb)} |` : ''}${db ? ` ${n(pg?.[r.phase]?.cpuPct)} |` : ''}`;
    }),
  ];
}

/** Mean CPU and peak RSS of a sampled process over each phase (samples stamped with wall epoch ms). */
export function serverByPhase(
  samples: ReadonlyArray<{ at: number; cpuPct?: number; rssMb?: number }>,
  phases: ReadonlyArray<{ name: string; fromMs: number; toMs: number }>,
  startedAt: number,
): ServerByPhase {
  const out: ServerByPhase = {};
  for (const p of phases) {
    const xs = samples.filter(
      (m) => m.cpuPct !== undefined && m.at - startedAt >= p.fromMs && m.at - startedAt < p.toMs,
    );
    if (xs.length)
      out[p.name] = {
        cpuPct: xs.reduce((a, m) => a + m.cpuPct!, 0) / xs.length,
        rssMb: Math.max(...xs.map((m) => m.rssMb ?? 0)),
      };
  }
  return out;
}
