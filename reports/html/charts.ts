/**
 * Hand-drawn SVG charts (no chart library): they render without JavaScript, print, stay crisp at any
 * zoom, and cost a few KB instead of inlining 200 KB of Chart.js. Marks carry <title> tooltips.
 */
import type { FaultSpan, MetricSummary } from '../../harness/results/types';
import { formatDuration } from '../base';
import type { SyncEvent } from '../history';

export function esc(s: unknown): string {
  return String(s).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

const f1 = (n: number) => (Math.round(n * 10) / 10).toString();

/** Compact axis label for a value in the metric's unit. */
export function axisLabel(v: number, unit: string): string {
  if (unit === 'ms') {
    if (v >= 60_000) return `${f1(v / 60_000)}m`;
    if (v >= 1000) return `${f1(v / 1000)}s`;
    return `${Math.round(v)}`;
  }
  if (v >= 1_000_000) return `${f1(v / 1_000_000)}M`;
  if (v >= 1000) return `${f1(v / 1000)}k`;
  return `${f1(v)}`;
}

export interface ThresholdMarker {
  value: number;
  label: string;
}

/**
 * Histogram from a trend's buckets. Buckets are roughly logarithmic, so bars are drawn equal-width per
 * bucket and percentile/threshold markers are interpolated inside their bucket.
 */
export function histogramSvg(m: MetricSummary, thresholds: ThresholdMarker[] = []): string {
  // Leading empty buckets are wasted width (a 4 s BLE transfer never lands in the 50 ms bucket).
  const all = m.buckets ?? [];
  const firstNonEmpty = Math.max(0, all.findIndex(([, c]) => c > 0) - 1);
  const buckets = all.slice(firstNonEmpty);
  if (!buckets.length) return '<p class="muted small">No histogram buckets recorded.</p>';
  const W = 480;
  const H = 200;
  const L = 34;
  const R = 10;
  const T = 40;
  const B = 30;
  const pw = W - L - R;
  const ph = H - T - B;
  const n = buckets.length;
  const bw = pw / n;
  const maxCount = Math.max(1, ...buckets.map(([, c]) => c));
  const y = (c: number) => T + ph - (c / maxCount) * ph;
  const xOf = (v: number) => {
    for (let i = 0; i < n; i++) {
      const hi = buckets[i]![0];
      if (v <= hi) {
        const lo = i ? buckets[i - 1]![0] : firstNonEmpty ? all[firstNonEmpty - 1]![0] : Math.min(0, v);
        const frac = hi === lo ? 1 : (v - lo) / (hi - lo);
        return L + (i + Math.max(0, Math.min(1, frac))) * bw;
      }
    }
    return L + pw;
  };
  const parts: string[] = [];
  parts.push(`<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(`histogram of ${m.name}`)}">`);
  // Integer count ticks: 0, the middle when it is a whole number, the max.
  const ticks = [
    0,
    ...(maxCount % 2 === 0 && maxCount >= 2 ? [maxCount / 2] : maxCount >= 4 ? [Math.round(maxCount / 2)] : []),
    maxCount,
  ];
  for (const v of ticks) {
    const yy = y(v);
    parts.push(
      `<line class="${v === 0 ? 'axis' : 'grid-line'}" x1="${L}" x2="${W - R}" y1="${f1(yy)}" y2="${f1(yy)}"/>`,
    );
    parts.push(`<text x="${L - 6}" y="${f1(yy + 3.5)}" text-anchor="end">${v}</text>`);
  }
  const every = n > 16 ? 3 : n > 10 ? 2 : 1;
  buckets.forEach(([hi, c], i) => {
    const x = L + i * bw;
    const lo = i ? buckets[i - 1]![0] : firstNonEmpty ? all[firstNonEmpty - 1]![0] : 0;
    if (c > 0) {
      parts.push(
        `<rect class="bar" x="${f1(x + 1)}" y="${f1(y(c))}" width="${f1(Math.max(1, bw - 2))}" height="${f1(T + ph - y(c))}" rx="2"><title>${esc(`${axisLabel(lo, m.unit)}–${axisLabel(hi, m.unit)} ${m.unit}: ${c}`)}</title></rect>`,
      );
    }
    if (i % every === every - 1 || i === n - 1)
      parts.push(`<text x="${f1(x + bw)}" y="${H - B + 14}" text-anchor="middle">${esc(axisLabel(hi, m.unit))}</text>`);
  });
  parts.push(`<text x="${L - 6}" y="${T - 30}" text-anchor="end">n</text>`);
  // Percentile markers on staggered rows so close values do not overprint.
  const marks: Array<[string, number | undefined]> = [
    ['p50', m.p50],
    ['p95', m.p95],
    ['p99', m.p99],
  ];
  marks.forEach(([label, v], row) => {
    if (v === undefined) return;
    const x = xOf(v);
    const ly = T - 28 + row * 11;
    const anchor = x > L + pw * 0.7 ? 'end' : 'start';
    parts.push(`<line class="pct" x1="${f1(x)}" x2="${f1(x)}" y1="${ly + 2}" y2="${T + ph}"/>`);
    parts.push(
      `<text class="pct-label" x="${f1(anchor === 'end' ? x - 4 : x + 4)}" y="${ly + 6}" text-anchor="${anchor}">${label}</text>`,
    );
  });
  for (const t of thresholds) {
    const beyond = t.value > buckets[n - 1]![0];
    const x = beyond ? L + pw : xOf(t.value);
    parts.push(`<line class="thr" x1="${f1(x)}" x2="${f1(x)}" y1="${T - 4}" y2="${T + ph}"/>`);
    parts.push(
      `<text class="thr-label" x="${f1(x - 4)}" y="${T + ph * 0.45}" text-anchor="end">${esc(beyond ? `${t.label} →` : t.label)}</text>`,
    );
  }
  parts.push('</svg>');
  return parts.join('');
}

const NICE_STEPS = [
  100, 250, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000,
  3_600_000, 7_200_000,
];

export interface TimelineOptions {
  /** Max individual marks with tooltips; beyond it marks are merged into one path per kind (all still drawn). */
  maxTitledMarks?: number;
  /** History index → anchor id, for marks that link into the excerpt. */
  anchors?: Map<number, string>;
}

/**
 * One row per device: every sync as a tick (successes downsampled to one per pixel column), each
 * conflict (◆), failure (×) and unknown outcome (○) kept as its own mark; fault spans hatched behind,
 * per device when targeted and across all rows for global faults (server crash, DB restart).
 */
export function timelineSvg(
  devices: string[],
  syncs: SyncEvent[],
  faults: FaultSpan[],
  endTime: number,
  opts: TimelineOptions = {},
): string {
  const W = 1000;
  const L = 96;
  const R = 12;
  const T = 30;
  const rowH = 28;
  const B = 26;
  const pw = W - L - R;
  const H = T + devices.length * rowH + B;
  const end = Math.max(1, endTime);
  const x = (t: number) => L + (Math.max(0, Math.min(end, t)) / end) * pw;
  const rowOf = new Map(devices.map((d, i) => [d, i]));
  const yMid = (i: number) => T + i * rowH + rowH / 2;
  const p: string[] = [];
  p.push(
    `<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="timeline of syncs per device against faults">`,
  );
  p.push(
    '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="var(--fault)" opacity="0.10"/><line x1="0" y1="0" x2="0" y2="6" stroke="var(--fault)" stroke-width="2" opacity="0.35"/></pattern>' +
      '<pattern id="hatch-global" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(-45)"><rect width="8" height="8" fill="var(--fail-strong)" opacity="0.07"/><line x1="0" y1="0" x2="0" y2="8" stroke="var(--fail-strong)" stroke-width="1.5" opacity="0.35"/></pattern></defs>',
  );
  devices.forEach((d, i) => {
    if (i % 2 === 0)
      p.push(`<rect class="row-bg" x="${L}" y="${T + i * rowH}" width="${pw}" height="${rowH}" opacity="0.6"/>`);
    p.push(`<text class="row-label" x="${L - 8}" y="${yMid(i) + 4}" text-anchor="end">${esc(d)}</text>`);
  });
  // Time axis.
  const step = NICE_STEPS.find((s) => end / s <= 10) ?? NICE_STEPS[NICE_STEPS.length - 1]!;
  for (let t = 0; t <= end; t += step) {
    const xx = x(t);
    p.push(`<line class="grid-line" x1="${f1(xx)}" x2="${f1(xx)}" y1="${T}" y2="${H - B}"/>`);
    p.push(
      `<text x="${f1(xx)}" y="${H - B + 15}" text-anchor="middle">${esc(t === 0 ? '0' : formatDuration(t))}</text>`,
    );
  }
  // Faults: global bands first (behind), then per-device bands.
  let labelRow = 0;
  for (const f of faults) {
    const x0 = x(f.start);
    const x1 = x(f.end ?? end);
    const w = Math.max(2, x1 - x0);
    const dur = `${formatDuration(f.start)}–${f.end === null ? 'end' : formatDuration(f.end)}`;
    const params = f.params ? ` ${JSON.stringify(f.params)}` : '';
    const title = `<title>${esc(`${f.name}${f.targets.length ? ` (${f.targets.join(', ')})` : ' (all devices)'}${params}, ${dur}`)}</title>`;
    const targeted = f.targets.filter((t) => rowOf.has(t));
    if (!targeted.length) {
      p.push(
        `<rect class="fault-band fault-global" x="${f1(x0)}" y="${T}" width="${f1(w)}" height="${devices.length * rowH}">${title}</rect>`,
      );
    } else {
      for (const t of targeted) {
        const i = rowOf.get(t)!;
        p.push(
          `<rect class="fault-band" x="${f1(x0)}" y="${T + i * rowH + 2}" width="${f1(w)}" height="${rowH - 4}" rx="3">${title}</rect>`,
        );
      }
    }
    p.push(`<text class="fault-label" x="${f1(x0 + 2)}" y="${T - 6 - (labelRow % 2) * 11}">⚡ ${esc(f.name)}</text>`);
    labelRow++;
  }
  // Successes: one tick per pixel column per device.
  const okCols = devices.map(() => new Set<number>());
  const special: SyncEvent[] = [];
  for (const s of syncs) {
    const i = rowOf.get(s.device);
    if (i === undefined) continue;
    if (s.outcome === 'ok') okCols[i]!.add(Math.round(x(s.start)));
    else special.push(s);
  }
  okCols.forEach((cols, i) => {
    if (!cols.size) return;
    const y0 = yMid(i) - 6;
    let d = '';
    for (const c of cols) d += `M${c} ${y0}v12`;
    p.push(`<path class="m-ok" d="${d}"/>`);
  });
  // Fault strips on top of the ticks: on a dense timeline the hatched band behind them is hidden.
  for (const f of faults) {
    const x0 = x(f.start);
    const w = Math.max(2, x(f.end ?? end) - x0);
    const rows = f.targets.filter((t) => rowOf.has(t)).map((t) => rowOf.get(t)!);
    for (const i of rows.length ? rows : devices.map((_, k) => k)) {
      p.push(
        `<rect class="fault-strip${rows.length ? '' : ' global'}" x="${f1(x0)}" y="${T + (i + 1) * rowH - 4}" width="${f1(w)}" height="3"/>`,
      );
    }
  }
  const mark = (s: SyncEvent, xx: number, yy: number) =>
    s.outcome === 'conflict'
      ? `M${f1(xx)} ${f1(yy - 5)}l5 5-5 5-5-5z`
      : s.outcome === 'fail'
        ? `M${f1(xx - 4)} ${f1(yy - 4)}l8 8m0-8l-8 8`
        : `M${f1(xx - 3.5)} ${f1(yy)}a3.5 3.5 0 1 0 7 0a3.5 3.5 0 1 0-7 0`;
  const cls = { conflict: 'm-conflict', fail: 'm-fail', info: 'm-info', ok: 'm-ok' } as const;
  const limit = opts.maxTitledMarks ?? 3000;
  // Failures drawn last so they sit on top of conflicts.
  const order = { info: 0, conflict: 1, fail: 2, ok: -1 } as const;
  special.sort((a, b) => order[a.outcome] - order[b.outcome]);
  if (special.length <= limit) {
    for (const s of special) {
      const i = rowOf.get(s.device)!;
      const tip = `#${s.index} ${s.device} ${s.f} ${s.outcome === 'conflict' ? `ok with ${s.conflicts} conflict(s)` : s.outcome === 'info' ? 'unknown outcome (info)' : 'failed'} at ${formatDuration(s.start)}${s.latencyMs !== undefined ? `, ${formatDuration(s.latencyMs)}` : ''}${s.error ? ` — ${s.error}` : ''}`;
      const path = `<path class="${cls[s.outcome]}" d="${mark(s, x(s.start), yMid(i))}"><title>${esc(tip)}</title></path>`;
      const a = opts.anchors?.get(s.index);
      p.push(a ? `<a href="#${a}">${path}</a>` : path);
    }
  } else {
    const merged: Record<string, string> = { conflict: '', fail: '', info: '' };
    for (const s of special) merged[s.outcome] += mark(s, x(s.start), yMid(rowOf.get(s.device)!));
    for (const k of ['info', 'conflict', 'fail'] as const)
      if (merged[k]) p.push(`<path class="${cls[k]}" d="${merged[k]}"/>`);
  }
  p.push('</svg>');
  return p.join('');
}

/** Small legend swatches matching the timeline marks. */
export const TIMELINE_LEGEND = [
  ['<svg width="10" height="16"><path class="m-ok" d="M5 1v14"/></svg>', 'sync ok'],
  ['<svg width="12" height="12"><path class="m-conflict" d="M6 1l5 5-5 5-5-5z"/></svg>', 'ok with conflict'],
  ['<svg width="12" height="12"><path class="m-fail" d="M2 2l8 8m0-8l-8 8"/></svg>', 'failed'],
  ['<svg width="12" height="12"><circle class="m-info" cx="6" cy="6" r="3.5"/></svg>', 'unknown (info)'],
  ['<svg width="18" height="12"><rect class="fault-band" width="18" height="12" rx="2"/></svg>', 'fault on a device'],
  [
    '<svg width="18" height="12"><rect class="fault-band fault-global" width="18" height="12"/></svg>',
    'fault on all (server/db)',
  ],
]
  .map(([icon, label]) => `<span>${icon}${label}</span>`)
  .join('');
