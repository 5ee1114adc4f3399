/**
 * Renders the single-file HTML report: static HTML + inline SVG + inline CSS, the run's data embedded
 * as JSON (for tools and for anyone who wants to poke at it in devtools). Nothing is fetched: the file
 * opens from a CI artifact, an email or a laptop offline.
 */

import type {
  CheckResult,
  MetricSummary,
  RunResult,
  ScenarioResult,
  ThresholdResult,
} from '../../harness/results/types';
import type { HistoryOp } from '../../protocol/history';
import { TABLE_NAMES, TABLES } from '../../protocol/tables';
import {
  attemptsNote,
  earlierAttempts,
  finalScenarios,
  formatBytes,
  formatDuration,
  formatMeasured,
  sig,
  thresholdStatus,
  thresholdTally,
  VERDICT_SYMBOL,
} from '../base';
import { type HistoryView, historyViewOf } from '../history';
import { reproduceCommand } from '../reproduce';
import { metricKey, parseThresholdExpression, rfcTargetFor } from '../rfc-targets';
import { axisLabel, esc, histogramSvg, type ThresholdMarker, TIMELINE_LEGEND, timelineSvg } from './charts';
import { CSS } from './style';

export interface RenderOptions {
  maxTitledMarks?: number;
  /** Violations listed per failed check (all are in the embedded JSON). */
  maxViolations?: number;
  /** Cap on excerpt rows per failed check. */
  maxExcerptRows?: number;
}

const badge = (v: ScenarioResult['verdict'], lg = false) =>
  `<span class="badge v-${v}${lg ? ' lg' : ''}">${VERDICT_SYMBOL[v]} ${v}</span>`;

export function slug(s: string): string {
  return (
    s
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '') || 'scenario'
  );
}

const viewOf = (h: HistoryOp[] | HistoryView | undefined): HistoryView =>
  Array.isArray(h) || !h ? historyViewOf(h ?? []) : h;

/** Section ids: the same scenario may appear twice (shards of a matrix, retries). */
function uniqueSlugs(names: string[]): string[] {
  const seen = new Map<string, number>();
  return names.map((n) => {
    const base = slug(n);
    const k = (seen.get(base) ?? 0) + 1;
    seen.set(base, k);
    return k === 1 ? base : `${base}-${k}`;
  });
}

function thresholdMarkers(m: MetricSummary, thresholds: ThresholdResult[]): ThresholdMarker[] {
  const key = metricKey(m.name, m.tags);
  return thresholds
    .filter((t) => t.metric === key || (t.metric === m.name && !m.tags))
    .map((t) => parseThresholdExpression(t.expression))
    .filter((p): p is NonNullable<typeof p> => !!p && p.stat !== 'rate' && p.stat !== 'count')
    .map((p) => ({ value: p.value, label: `${p.stat}${p.op}${axisLabel(p.value, m.unit)}` }));
}

function measuredCell(t: ThresholdResult): string {
  return esc(formatMeasured(t.measured, t.metric));
}

function checksTable(s: ScenarioResult, prefix: string): string {
  if (!s.checks.length) return '<p class="muted">No checks ran.</p>';
  const rows = s.checks
    .map((c) => {
      const link = !c.passed ? ` <a class="small" href="#${prefix}check-${slug(c.name)}">details ↓</a>` : '';
      return `<tr><td>${c.passed ? '<span class="ok">✓ pass</span>' : '<span class="bad">✘ fail</span>'}</td><td><b>${esc(c.name)}</b></td><td>${esc(c.summary)}${link}</td><td class="num muted">${esc(formatDuration(c.durationMs))}</td></tr>`;
    })
    .join('');
  return `<div class="scroll"><table><thead><tr><th>Result</th><th>Check</th><th>Summary</th><th class="num">Time</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

function thresholdsTable(s: ScenarioResult): string {
  if (!s.thresholds.length) return '<p class="muted">No thresholds.</p>';
  const rows = s.thresholds
    .map((t) => {
      const rfc = rfcTargetFor(t.metric);
      const status = thresholdStatus(t);
      const cell =
        status === 'pass'
          ? '<span class="ok">✓ pass</span>'
          : status === 'fail'
            ? '<span class="bad">✘ fail</span>'
            : '<span class="muted">– no data</span>';
      return `<tr><td>${cell}</td><td><code>${esc(t.metric)}</code></td><td><code>${esc(t.expression)}</code></td><td class="num"><b>${measuredCell(t)}</b></td><td class="small muted">${rfc ? `${esc(rfc.target)} <span title="RFC 0006 ${esc(rfc.section)}">(${esc(rfc.section)})</span>` : ''}${t.source !== 'rfc' ? `${rfc ? '<br>' : ''}set by ${esc(t.source)}` : ''}</td></tr>`;
    })
    .join('');
  return `<div class="scroll"><table><thead><tr><th>Result</th><th>Metric</th><th>Expression</th><th class="num">Measured</th><th>RFC target</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

function alertsTable(s: ScenarioResult): string {
  if (!s.alerts?.length) return '<p class="muted">No alert rules evaluated.</p>';
  const rows = s.alerts
    .map(
      (a) =>
        `<tr><td>${a.fired ? `<span class="bad">▲ fired</span>` : '<span class="muted">quiet</span>'}</td><td><b>${esc(a.severity)}</b> → ${esc(a.channel)}</td><td>${esc(a.condition)} <span class="small muted">(RFC ${esc(a.section)})</span></td><td><code>${esc(`${a.metric} ${a.fires}`)}</code></td><td class="num"><b>${esc(formatMeasured(a.measured, a.metric))}</b></td></tr>`,
    )
    .join('');
  return `<div class="scroll"><table><thead><tr><th>State</th><th>Severity</th><th>Rule</th><th>Fires when</th><th class="num">Measured</th></tr></thead><tbody>${rows}</tbody></table></div><p class="small muted">Alerts are what production would raise on this traffic; they do not decide the verdict.</p>`;
}

function latencyCards(s: ScenarioResult): string {
  // Per sync path (path/pack tags) and overall; breakdowns by table or device stay in "All metrics".
  const rank = (m: MetricSummary) => (m.name === 'sync_latency_ms' ? 0 : m.name === 'watch_transfer_ms' ? 1 : 2);
  const trends = s.metrics
    .filter((m) => m.kind === 'trend' && m.unit === 'ms' && m.count)
    .filter((m) => !m.tags || Object.keys(m.tags).length === 0 || 'path' in m.tags || 'pack' in m.tags)
    .sort((a, b) => rank(a) - rank(b) || metricKey(a.name, a.tags).localeCompare(metricKey(b.name, b.tags)));
  if (!trends.length) return '';
  const cards = trends.map((m) => {
    const key = metricKey(m.name, m.tags);
    const cell = (v?: number) => `<td class="num">${v === undefined ? '–' : esc(formatMeasured(v, 'x_ms'))}</td>`;
    const sim =
      m.time === 'simulated'
        ? '<span class="sim" title="Simulated time (BLE link model, scaled waits), not wall time">simulated</span>'
        : '';
    return `<div class="card"><h3>${esc(key)}${sim}</h3>${histogramSvg(m, thresholdMarkers(m, s.thresholds))}
<table class="pct-table"><thead><tr><th class="num">count</th><th class="num">min</th><th class="num">p50</th><th class="num">p90</th><th class="num">p95</th><th class="num">p99</th><th class="num">max</th><th class="num">mean</th></tr></thead>
<tbody><tr><td class="num">${m.count ?? 0}</td>${cell(m.min)}${cell(m.p50)}${cell(m.p90)}${cell(m.p95)}${cell(m.p99)}${cell(m.max)}${cell(m.mean)}</tr></tbody></table></div>`;
  });
  return `<h3 style="margin-top:8px">Latency per sync path</h3><div class="grid hist">${cards.join('')}</div>`;
}

function conflictsCard(byTable: Record<string, Record<string, number>>): string {
  const totals = TABLE_NAMES.map((t) => [t, byTable[t] ?? {}] as const);
  const max = Math.max(1, ...totals.map(([, r]) => Object.values(r).reduce((a, b) => a + b, 0)));
  const all = totals.reduce((a, [, r]) => a + Object.values(r).reduce((x, y) => x + y, 0), 0);
  const rows = totals
    .map(([t, r]) => {
      const n = Object.values(r).reduce((a, b) => a + b, 0);
      const segs = (['client_wins', 'server_wins', 'merged'] as const)
        .filter((k) => r[k])
        .map(
          (k) =>
            `<span class="seg-${k}" style="width:${((r[k]! / max) * 100).toFixed(2)}%" title="${k}: ${r[k]}"></span>`,
        )
        .join('');
      return `<tr><td><code>${t}</code><div class="small muted">${TABLES[t].strategy}</div></td><td style="width:55%"><div class="stack">${segs}</div></td><td class="num"><b>${n}</b></td></tr>`;
    })
    .join('');
  const legend = `<div class="legend"><span><i class="sw seg-client_wins"></i>client wins</span><span><i class="sw seg-server_wins"></i>server wins</span><span><i class="sw seg-merged"></i>merged</span></div>`;
  return `<div class="card"><h3>Conflicts per table <span class="muted" style="text-transform:none;letter-spacing:0">· ${all} total</span></h3>${legend}<table>${rows}</table></div>`;
}

function dataCard(s: ScenarioResult): string {
  const max = Math.max(1, ...s.devices.map((d) => Math.max(d.bytesUp, d.bytesDown)));
  const up = s.devices.reduce((a, d) => a + d.bytesUp, 0);
  const down = s.devices.reduce((a, d) => a + d.bytesDown, 0);
  const rows = s.devices
    .map(
      (d) =>
        `<tr><td><b>${esc(d.id)}</b></td><td style="width:50%"><div class="meter" style="margin:3px 0"><span style="width:${((d.bytesUp / max) * 100).toFixed(2)}%;background:var(--up)"></span></div><div class="meter"><span style="width:${((d.bytesDown / max) * 100).toFixed(2)}%;background:var(--down)"></span></div></td><td class="num small">↑ ${esc(formatBytes(d.bytesUp))}<br>↓ ${esc(formatBytes(d.bytesDown))}</td></tr>`,
    )
    .join('');
  return `<div class="card"><h3>Data transferred <span class="muted" style="text-transform:none;letter-spacing:0">· ↑ ${esc(formatBytes(up))} · ↓ ${esc(formatBytes(down))}</span></h3><div class="legend"><span><i class="sw" style="background:var(--up)"></i>upload</span><span><i class="sw" style="background:var(--down)"></i>download</span></div><table>${rows}</table></div>`;
}

function devicesCard(s: ScenarioResult): string {
  const hasEnergy = s.devices.some((d) => d.energy);
  const hasMem = s.devices.some((d) => d.memoryMb);
  const rows = s.devices
    .map((d) => {
      const rate = d.syncs ? (d.syncs - d.syncFailures) / d.syncs : null;
      const e = d.energy;
      const per = e?.batteryPctPerSync;
      const pct = (v: number | undefined) => (v === undefined ? '<span class="muted">–</span>' : `${sig(v)}%`);
      const m = e?.measured;
      const energy = hasEnergy
        ? e
          ? `<td class="num">${sig(e.joules)} J<div class="small muted">modelled${e.radio ? ` · ${esc(e.radio)}` : ''}</div></td><td class="num">${sig(e.batteryPct)}%</td><td><div class="bar-cell"><div class="meter${per !== undefined && per >= 2 ? ' over' : ''}" title="RFC target: < 2% per sync"><span style="width:${Math.min(100, ((per ?? 0) / 2) * 100).toFixed(1)}%"></span></div><span class="num">${pct(per)}</span></div></td><td class="num">${pct(e.batteryPctPerDay)}</td><td class="num">${m ? `${pct(m.batteryPctPerSync)}<div class="small muted">${sig(m.batteryPct)}% over the run${m.batteryPctPerDay !== undefined ? ` · ${sig(m.batteryPctPerDay)}%/day` : ''}</div>` : '<span class="muted">–</span>'}</td>`
          : '<td class="num muted">–</td><td class="num muted">–</td><td class="muted">–</td><td class="num muted">–</td><td class="num muted">–</td>'
        : '';
      const mem = hasMem
        ? `<td class="num">${d.memoryMb ? `${sig(d.memoryMb.max)} <span class="muted small">/ ${sig(d.memoryMb.mean)}</span>` : '–'}</td>`
        : '';
      return `<tr><td><b>${esc(d.id)}</b><div class="small muted">${esc([d.kind, d.platform, d.user].filter(Boolean).join(' · '))}</div></td><td class="num">${d.ops}</td><td class="num">${d.syncs}</td><td class="num">${d.syncFailures ? `<span class="bad">${d.syncFailures}</span>` : '0'}</td><td class="num">${rate === null ? '–' : `${(rate * 100).toFixed(1)}%`}</td>${energy}${mem}</tr>`;
    })
    .join('');
  const eh = hasEnergy
    ? '<th class="num">Energy</th><th class="num">Battery</th><th>Battery % / sync <span class="muted">(target &lt; 2)</span></th><th class="num">% / day</th><th class="num">Measured % / sync</th>'
    : '';
  const mh = hasMem ? '<th class="num">Memory MB max / mean</th>' : '';
  return `<div class="card"><h3>Devices</h3><div class="scroll"><table><thead><tr><th>Device</th><th class="num">Ops</th><th class="num">Syncs</th><th class="num">Failed</th><th class="num">Success</th>${eh}${mh}</tr></thead><tbody>${rows}</tbody></table></div></div>`;
}

function opDetail(op: HistoryOp): string {
  const bits: string[] = [];
  if (op.table) bits.push(`${op.table}/${op.id ?? ''}`);
  if (op.trigger) bits.push(`trigger=${op.trigger}`);
  if (op.values) bits.push(JSON.stringify(op.values));
  if (op.pulled !== undefined) bits.push(`pulled=${op.pulled}`);
  if (op.pushed !== undefined) bits.push(`pushed=${op.pushed}`);
  if (op.bytesUp !== undefined || op.bytesDown !== undefined)
    bits.push(`↑${formatBytes(op.bytesUp ?? 0)} ↓${formatBytes(op.bytesDown ?? 0)}`);
  if (op.conflicts?.length)
    bits.push(`conflicts: ${op.conflicts.map((c) => `${c.tableName}/${c.id} ${c.resolution}`).join(', ')}`);
  if (op.fault) bits.push(`${op.fault.name}${op.fault.targets?.length ? `(${op.fault.targets.join(',')})` : ''}`);
  if (op.error) bits.push(`error: ${op.error}`);
  if (op.extra) bits.push(JSON.stringify(op.extra));
  return esc(bits.join(' · '));
}

function excerptTable(ops: HistoryOp[], hits: Set<number>, anchor: (i: number) => string, maxRows: number): string {
  if (!ops.length) return '<p class="muted small">The operations named by this check are not in the history file.</p>';
  const rows: string[] = [];
  let prev = -1;
  for (const op of ops.slice(0, maxRows)) {
    if (prev >= 0 && op.index > prev + 1)
      rows.push(`<tr class="gap"><td colspan="8">⋯ ${op.index - prev - 1} ops</td></tr>`);
    prev = op.index;
    rows.push(
      `<tr id="${anchor(op.index)}"${hits.has(op.index) ? ' class="hit"' : ''}><td><a href="#${anchor(op.index)}">#${op.index}</a></td><td class="num">${esc(formatDuration(op.time))}</td><td>${esc(op.process)}</td><td class="t-${op.type}">${op.type}</td><td>${esc(op.f)}</td><td class="num">${op.latencyMs !== undefined ? esc(formatDuration(op.latencyMs)) : ''}</td><td class="detail" colspan="2">${opDetail(op)}</td></tr>`,
    );
  }
  if (ops.length > maxRows)
    rows.push(`<tr class="gap"><td colspan="8">${ops.length - maxRows} more operations in the embedded data</td></tr>`);
  return `<div class="scroll"><table class="history"><thead><tr><th>#</th><th class="num">time</th><th>process</th><th>type</th><th>f</th><th class="num">latency</th><th colspan="2">detail</th></tr></thead><tbody>${rows.join('')}</tbody></table></div>`;
}

function failedCheckCard(
  c: CheckResult,
  s: ScenarioResult,
  history: HistoryView,
  prefix: string,
  o: Required<RenderOptions>,
  run: Pick<RunResult, 'options'>,
) {
  const anchor = (i: number) => `${prefix}op-${i}`;
  const idx = c.violations.flatMap((v) => v.historyIndexes ?? []);
  const hits = new Set(idx);
  const ex = history.excerpt(hits);
  const items = c.violations
    .slice(0, o.maxViolations)
    .map((v) => {
      const where = [v.device, v.table && v.id ? `${v.table}/${v.id}` : v.table].filter(Boolean).join(' · ');
      const links = (v.historyIndexes ?? []).map((i) => `<a class="oplink" href="#${anchor(i)}">#${i}</a>`).join('');
      return `<li>${esc(v.message)}${where ? ` <span class="muted small">(${esc(where)})</span>` : ''} ${links}</li>`;
    })
    .join('');
  const more =
    c.violations.length > o.maxViolations
      ? `<li class="muted">… ${c.violations.length - o.maxViolations} more in the embedded data</li>`
      : '';
  return {
    html: `<div class="card check-fail" id="${prefix}check-${slug(c.name)}"><h3 style="color:var(--fail)">✘ ${esc(c.name)}</h3><p style="margin:0"><b>${esc(c.summary)}</b> <span class="muted small">· reproduce with <code>${esc(reproduceCommand(run, s))}</code></span></p><ul class="violations">${items}${more}</ul><h3 style="margin-top:14px">History excerpt</h3>${excerptTable(ex, hits, anchor, o.maxExcerptRows)}</div>`,
    excerpt: ex,
    anchors: ex.map((op) => [op.index, anchor(op.index)] as const),
  };
}

function metricsDetails(s: ScenarioResult): string {
  if (!s.metrics.length) return '';
  const cell = (m: MetricSummary, v?: number) =>
    `<td class="num">${v === undefined ? '' : esc(m.unit === 'bytes' ? formatBytes(v) : String(v))}</td>`;
  const rows = s.metrics
    .map(
      (m) =>
        `<tr><td><code>${esc(metricKey(m.name, m.tags))}</code></td><td>${m.kind}</td><td>${m.unit}${m.time === 'simulated' ? ' <span class="sim">sim</span>' : ''}</td><td class="num">${m.count ?? ''}</td>${cell(m, m.value)}${cell(m, m.p50)}${cell(m, m.p95)}${cell(m, m.p99)}${cell(m, m.max)}</tr>`,
    )
    .join('');
  return `<details><summary>All metrics (${s.metrics.length})</summary><div class="scroll"><table><thead><tr><th>Metric</th><th>Kind</th><th>Unit</th><th class="num">Count</th><th class="num">Value</th><th class="num">p50</th><th class="num">p95</th><th class="num">p99</th><th class="num">Max</th></tr></thead><tbody>${rows}</tbody></table></div></details>`;
}

function faultsDetails(s: ScenarioResult): string {
  if (!s.faults.length) return '';
  const rows = s.faults
    .map(
      (f) =>
        `<tr><td><b>${esc(f.name)}</b></td><td>${f.targets.length ? esc(f.targets.join(', ')) : '<span class="muted">all</span>'}</td><td class="num">${esc(formatDuration(f.start))}</td><td class="num">${f.end === null ? 'not healed' : esc(formatDuration(f.end))}</td><td class="num">${f.end === null ? '' : esc(formatDuration(f.end - f.start))}</td><td><code>${f.params ? esc(JSON.stringify(f.params)) : ''}</code></td></tr>`,
    )
    .join('');
  return `<details><summary>Faults (${s.faults.length})</summary><div class="scroll"><table><thead><tr><th>Fault</th><th>Targets</th><th class="num">Start</th><th class="num">End</th><th class="num">Duration</th><th>Params</th></tr></thead><tbody>${rows}</tbody></table></div></details>`;
}

function scenarioSection(
  s: ScenarioResult,
  sid: string,
  history: HistoryView,
  multi: boolean,
  o: Required<RenderOptions>,
  run: Pick<RunResult, 'options'>,
) {
  const prefix = multi ? `${sid}-` : '';
  const digest = history.digest();
  const failed = s.checks.filter((c) => !c.passed).map((c) => failedCheckCard(c, s, history, prefix, o, run));
  const anchors = new Map<number, string>(failed.flatMap((f) => f.anchors));
  const deviceIds = [...new Set([...s.devices.map((d) => d.id), ...digest.devices])];
  const endTime = Math.max(digest.endTime, s.durationMs, ...s.faults.map((f) => f.end ?? f.start));
  const counts = { ok: 0, conflict: 0, fail: 0, info: 0 };
  for (const e of digest.syncs) counts[e.outcome]++;
  const timeline =
    digest.syncs.length || s.faults.length
      ? `<div class="card"><h3>Timeline: syncs per device against faults <span class="muted" style="text-transform:none;letter-spacing:0">· ${counts.ok} ok · ${counts.conflict} with conflicts · ${counts.fail} failed · ${counts.info} unknown</span></h3><div class="legend">${TIMELINE_LEGEND}</div>${timelineSvg(deviceIds, digest.syncs, s.faults, endTime, { maxTitledMarks: o.maxTitledMarks, anchors })}</div>`
      : '';
  const tags = s.tags.map((t) => `<span class="tag">${esc(t)}</span>`).join('');
  const html = `<section class="scenario" id="s-${sid}">
<div class="scenario-head"><h2>${esc(s.name)}</h2>${badge(s.verdict)}${s.attempt > 1 ? `<span class="badge v-skipped">attempt ${s.attempt}</span>` : ''}<span class="tags">${tags}</span></div>
${s.title ? `<div class="scenario-head sub">${esc(s.title)}</div>` : ''}
<div class="meta"><span>seed <b class="mono">${s.seed}</b></span><span><b>${s.operations.toLocaleString('en-US')}</b> ops</span><span><b>${s.devices.length}</b> devices</span><span>duration <b>${esc(formatDuration(s.durationMs))}</b></span><span>started ${esc(s.startedAt)}</span><span>history <code>${esc(s.historyFile)}</code></span></div>
${s.error ? `<div class="error-box"><b>${esc(s.error.code)}</b>: ${esc(s.error.message)}</div>` : ''}
${s.notes?.length ? `<ul class="notes">${s.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : ''}
<div class="card" style="margin-top:14px"><h3>Checks</h3>${checksTable(s, prefix)}</div><div class="card"><h3>Thresholds</h3>${thresholdsTable(s)}</div>
<div class="card"><h3>Alerts (RFC §5.3)</h3>${alertsTable(s)}</div>
<div style="margin-top:16px">${latencyCards(s)}</div>
<div style="margin-top:16px">${timeline}</div>
<div class="grid">${conflictsCard(digest.conflictsByTable)}${dataCard(s)}</div>
<div style="margin-top:16px">${devicesCard(s)}</div>
${failed.map((f) => f.html).join('\n')}
<div class="card">${metricsDetails(s)}${faultsDetails(s)}</div>
</section>`;
  return { html, excerpt: failed.flatMap((f) => f.excerpt) };
}

/** JSON inside <script>: `<` escaped so no `</script>` or `<!--` in the data can end the element. */
export function scriptJson(data: unknown): string {
  return JSON.stringify(data)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

export function renderHtml(
  result: RunResult,
  histories: Map<string, HistoryOp[] | HistoryView>,
  options: RenderOptions = {},
): string {
  const o: Required<RenderOptions> = { maxTitledMarks: 3000, maxViolations: 200, maxExcerptRows: 600, ...options };
  const multi = result.scenarios.length > 1;
  const sids = uniqueSlugs(result.scenarios.map((s) => s.name));
  const finals = new Set(finalScenarios(result.scenarios));
  const sections = result.scenarios.map((s, i) =>
    scenarioSection(s, sids[i]!, viewOf(histories.get(s.historyFile)), multi, o, result),
  );
  const st = result.stats;
  const failedThr = [...finals].reduce((a, s) => a + s.thresholds.filter((t) => !t.passed).length, 0);
  const failedChk = [...finals].reduce((a, s) => a + s.checks.filter((c) => !c.passed).length, 0);
  const ops = result.scenarios.reduce((a, s) => a + s.operations, 0);
  const overview = result.scenarios
    .map((s, i) => {
      const ck = `${s.checks.filter((c) => c.passed).length}/${s.checks.length}`;
      const th = thresholdTally(s.thresholds);
      const failing = [
        ...s.checks.filter((c) => !c.passed).map((c) => c.name),
        ...s.thresholds.filter((t) => !t.passed).map((t) => `${t.metric} ${t.expression}`),
      ];
      const superseded = !finals.has(s);
      const earlier = earlierAttempts(result.scenarios, s);
      const retryNote = superseded
        ? '<div class="small muted">retried: superseded by a later attempt</div>'
        : earlier.length
          ? `<div class="small muted">${esc(attemptsNote(earlier))}</div>`
          : '';
      return `<tr${superseded ? ' class="superseded"' : ''}><td>${badge(s.verdict)}${s.attempt > 1 || superseded ? `<div class="small muted">attempt ${s.attempt}</div>` : ''}</td><td class="scen"><a href="#s-${sids[i]}"><b>${esc(s.name)}</b></a>${s.title ? `<div class="small muted">${esc(s.title)}</div>` : ''}${retryNote}</td><td class="num">${ck}</td><td class="num">${th}</td><td class="small failing">${failing.length ? failing.map((f) => `<span class="bad">${esc(f)}</span>`).join('<br>') : '<span class="muted">–</span>'}</td><td class="num">${s.operations.toLocaleString('en-US')}</td><td class="num">${s.devices.length}</td><td class="num">${esc(formatDuration(s.durationMs))}</td></tr>`;
    })
    .join('');
  const data = {
    schemaVersion: result.schemaVersion,
    result,
    excerpts: Object.fromEntries(result.scenarios.map((s, i) => [s.name, sections[i]!.excerpt])),
  };
  const shard = result.shard ? `<span>shard <b>${result.shard.index}/${result.shard.total}</b></span>` : '';
  const merged = (result as RunResult & { mergedFrom?: unknown[] }).mergedFrom;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${VERDICT_SYMBOL[result.verdict]} ${esc(result.verdict)} · sync-harness ${esc(result.runId)}</title>
<style>${CSS}
.sw{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:5px;vertical-align:-1px}
.seg-client_wins{background:var(--up)}.seg-server_wins{background:var(--conflict)}.seg-merged{background:var(--merged)}
</style></head>
<body>
<header class="top"><div class="wrap">
<div class="title-row"><h1>sync-harness run</h1>${badge(result.verdict, true)}<code class="muted">${esc(result.runId)}</code></div>
<div class="meta"><span>started <b>${esc(result.startedAt)}</b></span><span>duration <b>${esc(formatDuration(result.durationMs))}</b></span><span>seed <b class="mono">${result.seed}</b></span>${shard}${merged ? `<span>merged from <b>${merged.length}</b> runs</span>` : ''}<span>target <b>${esc(result.target.mode)}</b> <code>${esc(result.target.url)}</code></span><span>${esc(result.environment.platform)} · node ${esc(result.environment.node)} · ${result.environment.cpus} cpus · ${esc(result.environment.hostname)}</span><span>harness ${esc(result.harnessVersion)}</span></div>
<div class="stats">
<div class="stat pass"><div class="n">${st.passed}</div><div class="l">passed</div></div>
<div class="stat fail"><div class="n">${st.failed + st.error}</div><div class="l">failed${st.error ? ` (${st.error} error)` : ''}</div></div>
<div class="stat flaky"><div class="n">${st.flaky}</div><div class="l">flaky</div></div>
<div class="stat"><div class="n">${st.skipped}</div><div class="l">skipped</div></div>
<div class="stat${failedChk ? ' fail' : ''}"><div class="n">${failedChk}</div><div class="l">failed checks</div></div>
<div class="stat${failedThr ? ' fail' : ''}"><div class="n">${failedThr}</div><div class="l">failed thresholds</div></div>
<div class="stat"><div class="n">${ops.toLocaleString('en-US')}</div><div class="l">history ops</div></div>
</div>
<nav class="toc">${result.scenarios.map((s, i) => `<a href="#s-${sids[i]}"><span class="badge v-${s.verdict}" style="padding:0 6px">${VERDICT_SYMBOL[s.verdict]}</span>${esc(s.name)}${finals.has(s) ? '' : ' <span class="muted">(attempt ' + s.attempt + ')</span>'}</a>`).join('')}</nav>
</div></header>
<main class="wrap">
<div class="card"><h3>Scenarios</h3><div class="scroll"><table><thead><tr><th>Verdict</th><th>Scenario</th><th class="num">Checks</th><th class="num">Thresholds</th><th>Failing</th><th class="num">Ops</th><th class="num">Devices</th><th class="num">Duration</th></tr></thead><tbody>${overview}</tbody></table></div>
<p class="small muted" style="margin:10px 0 0">Command: <code>${esc((result.argv[0] === 'harness' ? result.argv : ['harness', ...result.argv]).join(' '))}</code></p></div>
${sections.map((s) => s.html).join('\n')}
<footer>sync-harness ${esc(result.harnessVersion)} · results schema v${result.schemaVersion} · generated ${esc(new Date().toISOString())} · the run's data is embedded in <code>#harness-data</code></footer>
</main>
<script type="application/json" id="harness-data">${scriptJson(data)}</script>
</body></html>
`;
}
