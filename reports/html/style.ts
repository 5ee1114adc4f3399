/**
 * The report's stylesheet. Colours are the Okabe–Ito palette (safe for the common colour-vision
 * deficiencies): pass is blue, fail is vermillion, flaky is amber, and every state also has its own
 * symbol and label so colour is never the only signal.
 */
export const CSS = `
:root {
  --bg: #f6f7f9; --card: #ffffff; --fg: #1b1f24; --muted: #5b6470; --line: #e2e5ea; --soft: #eef1f5;
  --pass: #0072b2; --pass-bg: #e3f0f9; --fail: #c2410c; --fail-strong: #d55e00; --fail-bg: #fdebe3;
  --flaky: #8a5a00; --flaky-bg: #fff3d6; --flaky-mark: #e69f00; --skip: #5b6470; --skip-bg: #eceff3;
  --ok-mark: #56b4e9; --conflict: #e69f00; --info: #cc79a7; --fault: #6b7280; --accent: #0072b2;
  --up: #0072b2; --down: #56b4e9; --merged: #009e73;
  --mono: ui-monospace, SFMono-Regular, 'SF Mono', Menlo, Consolas, 'Liberation Mono', monospace;
  --sans: system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, 'Noto Sans', sans-serif;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0f1216; --card: #171b21; --fg: #e6e9ee; --muted: #9aa4b1; --line: #2a3039; --soft: #1f252d;
    --pass: #56b4e9; --pass-bg: #0f2a3b; --fail: #ff8a4c; --fail-strong: #ff7a33; --fail-bg: #3a1d10;
    --flaky: #f0c060; --flaky-bg: #3a2d0c; --skip: #9aa4b1; --skip-bg: #232a33; --accent: #56b4e9; --fault: #9aa4b1;
  }
}
* { box-sizing: border-box; }
html { scroll-behavior: smooth; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 14px/1.5 var(--sans); -webkit-font-smoothing: antialiased; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
code, .mono { font-family: var(--mono); font-size: 12.5px; }
.wrap { max-width: 1240px; margin: 0 auto; padding: 0 24px 64px; }
header.top { background: var(--card); border-bottom: 1px solid var(--line); margin-bottom: 24px; }
header.top .wrap { padding-top: 20px; padding-bottom: 18px; }
.title-row { display: flex; align-items: center; gap: 14px; flex-wrap: wrap; }
h1 { font-size: 22px; margin: 0; font-weight: 650; letter-spacing: -0.01em; }
h2 { font-size: 18px; margin: 0; font-weight: 650; letter-spacing: -0.01em; }
h3 { font-size: 13px; margin: 0 0 10px; font-weight: 650; text-transform: uppercase; letter-spacing: 0.06em; color: var(--muted); }
.meta { color: var(--muted); font-size: 13px; margin-top: 6px; display: flex; flex-wrap: wrap; gap: 4px 18px; }
.meta b { color: var(--fg); font-weight: 600; }
.badge { display: inline-flex; align-items: center; gap: 6px; padding: 2px 10px; border-radius: 999px; font-weight: 650; font-size: 12.5px; border: 1px solid transparent; white-space: nowrap; }
.badge.lg { font-size: 14px; padding: 4px 14px; }
.v-passed { color: var(--pass); background: var(--pass-bg); border-color: color-mix(in srgb, var(--pass) 35%, transparent); }
.v-failed, .v-error { color: var(--fail); background: var(--fail-bg); border-color: color-mix(in srgb, var(--fail) 35%, transparent); }
.v-flaky { color: var(--flaky); background: var(--flaky-bg); border-color: color-mix(in srgb, var(--flaky-mark) 45%, transparent); }
.v-skipped { color: var(--skip); background: var(--skip-bg); }
.stats { display: flex; gap: 10px; flex-wrap: wrap; margin-top: 14px; }
.stat { background: var(--soft); border-radius: 10px; padding: 8px 14px; min-width: 96px; }
.stat .n { font-size: 20px; font-weight: 700; font-variant-numeric: tabular-nums; }
.stat .l { font-size: 12px; color: var(--muted); }
.stat.fail .n { color: var(--fail); } .stat.pass .n { color: var(--pass); } .stat.flaky .n { color: var(--flaky); }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 12px; padding: 18px 20px; margin-bottom: 16px; }
.grid { display: grid; gap: 16px; grid-template-columns: repeat(auto-fit, minmax(340px, 1fr)); }
.grid > .card { margin-bottom: 0; }
.grid.hist { grid-template-columns: repeat(auto-fit, minmax(440px, 1fr)); margin-bottom: 16px; }
.stack { display: flex; height: 12px; border-radius: 4px; background: var(--soft); overflow: hidden; }
.stack > span { display: block; height: 100%; }
.pct-table td { white-space: nowrap; }
section.scenario { margin-top: 36px; scroll-margin-top: 12px; }
.scenario-head { display: flex; align-items: center; gap: 12px; flex-wrap: wrap; margin-bottom: 4px; }
.scenario-head .sub { color: var(--muted); }
.tags { display: inline-flex; gap: 6px; flex-wrap: wrap; }
.tag { font-size: 12px; color: var(--muted); background: var(--soft); border-radius: 6px; padding: 1px 7px; font-family: var(--mono); }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 7px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 12px; color: var(--muted); font-weight: 600; text-transform: uppercase; letter-spacing: 0.04em; background: var(--card); }
td.num, th.num { text-align: right; }
tr:last-child td { border-bottom: 0; }
tr.superseded td { opacity: 0.6; }
td.scen { min-width: 220px; }
td.failing { max-width: 300px; }
td.failing .bad { white-space: normal; }
.scroll { overflow-x: auto; }
.ok { color: var(--pass); font-weight: 600; white-space: nowrap; }
.bad { color: var(--fail); font-weight: 600; white-space: nowrap; }
.muted { color: var(--muted); }
.small { font-size: 12.5px; }
.notes { margin: 10px 0 0; padding-left: 18px; color: var(--muted); }
.error-box { border-left: 4px solid var(--fail-strong); background: var(--fail-bg); padding: 10px 14px; border-radius: 6px; margin: 10px 0; }
.check-fail { border-left: 4px solid var(--fail-strong); }
.violations { margin: 8px 0 0; padding-left: 18px; }
.violations li { margin: 4px 0; }
.oplink { font-family: var(--mono); font-size: 12px; background: var(--soft); padding: 0 5px; border-radius: 4px; margin-right: 3px; }
.legend { display: flex; gap: 16px; flex-wrap: wrap; font-size: 12.5px; color: var(--muted); margin: 4px 0 10px; align-items: center; }
.legend svg { vertical-align: middle; margin-right: 4px; }
svg.chart { width: 100%; height: auto; display: block; overflow: visible; }
svg text { fill: var(--muted); font: 11px var(--sans); }
svg .axis { stroke: var(--line); }
svg .grid-line { stroke: var(--line); stroke-dasharray: 2 3; }
svg .bar { fill: var(--accent); opacity: 0.85; }
svg .bar:hover { opacity: 1; }
svg .pct { stroke: var(--fg); stroke-width: 1.2; }
svg .pct-label { fill: var(--fg); font-weight: 600; paint-order: stroke; stroke: var(--card); stroke-width: 3px; }
svg .thr { stroke: var(--fail-strong); stroke-width: 1.5; stroke-dasharray: 5 4; }
svg .thr-label { fill: var(--fail-strong); font-weight: 600; paint-order: stroke; stroke: var(--card); stroke-width: 3px; }
svg .row-bg { fill: var(--soft); }
svg .row-label { fill: var(--fg); font-weight: 600; }
svg .m-ok { stroke: var(--ok-mark); stroke-width: 1; opacity: 0.75; }
svg .fault-strip { fill: var(--fault); opacity: 0.85; }
svg .fault-strip.global { fill: var(--fail-strong); opacity: 0.6; }
svg .m-conflict { fill: var(--conflict); stroke: #7a4f00; stroke-width: 0.6; }
svg .m-fail { stroke: var(--fail-strong); stroke-width: 2; fill: none; }
svg .m-info { fill: none; stroke: var(--info); stroke-width: 1.6; }
svg .fault-band { fill: url(#hatch); opacity: 0.9; }
svg .fault-global { fill: url(#hatch-global); }
svg .fault-label { fill: var(--muted); font-size: 10.5px; }
svg .b-up { fill: var(--up); } svg .b-down { fill: var(--down); }
svg .b-client_wins { fill: var(--up); } svg .b-server_wins { fill: var(--conflict); } svg .b-merged { fill: var(--merged); }
.bar-cell { display: flex; align-items: center; gap: 8px; }
.meter { height: 8px; border-radius: 4px; background: var(--soft); flex: 1; min-width: 60px; position: relative; overflow: hidden; }
.meter > span { position: absolute; inset: 0 auto 0 0; background: var(--accent); border-radius: 4px; }
.meter.over > span { background: var(--fail-strong); }
nav.toc { display: flex; gap: 8px; flex-wrap: wrap; margin-top: 14px; }
nav.toc a { display: inline-flex; gap: 6px; align-items: center; padding: 4px 10px; border-radius: 8px; background: var(--soft); color: var(--fg); font-size: 13px; }
nav.toc a:hover { text-decoration: none; background: var(--line); }
details > summary { cursor: pointer; color: var(--muted); font-weight: 600; margin: 4px 0; }
table.history td { font-family: var(--mono); font-size: 12px; padding: 4px 8px; white-space: nowrap; }
table.history td.detail { white-space: normal; word-break: break-word; }
table.history tr.hit td { background: var(--fail-bg); }
table.history tr:target td { background: color-mix(in srgb, var(--flaky-mark) 35%, var(--card)); }
table.history tr.gap td { color: var(--muted); text-align: center; background: var(--soft); padding: 1px; }
.t-ok { color: var(--pass); } .t-fail { color: var(--fail); } .t-info { color: var(--info); } .t-invoke { color: var(--muted); }
.pct-table td, .pct-table th { padding: 4px 8px; font-size: 12.5px; }
.sim { font-size: 11px; color: var(--flaky); background: var(--flaky-bg); border-radius: 4px; padding: 0 5px; margin-left: 6px; }
footer { color: var(--muted); font-size: 12px; margin-top: 40px; text-align: center; }
@media (max-width: 640px) {
  .grid.hist { grid-template-columns: 1fr; }
  .wrap { padding: 0 12px 40px; }
  .grid { grid-template-columns: 1fr; }
  th, td { padding: 6px 6px; }
}
@media print { .card { break-inside: avoid; } nav.toc { display: none; } }
`;
