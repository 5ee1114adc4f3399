/**
 * Summarises a V8 .cpuprofile (node --cpu-prof): self time by bucket (a package of node_modules, a
 * node: internal module, a file of this repository, GC, idle) and the top functions, so a profile
 * taken under load (bench/server-saturation.ts --cpu-prof) reads as a table.
 *
 *   npx tsx bench/cpu-profile.ts FILE.cpuprofile [--top 25]
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export function bucketOf(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  if (url.startsWith('node:'))
    return url
      .replace(/^node:internal\//, 'node:')
      .split('/')
      .slice(0, 2)
      .join('/');
  const repo = /\/(server|protocol|harness|devices|bench)\/(.+)$/.exec(url);
  return repo ? `${repo[1]}/${repo[2]}` : url;
}

export function summarise(p: Profile, top = 25) {
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) {
    self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i] ?? 0));
  }
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const buckets = new Map<string, number>();
  const fns = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    const { functionName: fn, url, lineNumber } = n.callFrame;
    if (fn === '(idle)') {
      idle += us;
      continue;
    }
    total += us;
    const b = bucketOf(url, fn);
    buckets.set(b, (buckets.get(b) ?? 0) + us);
    const key = `${fn || '(anonymous)'} ${bucketOf(url, fn)}:${lineNumber + 1}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
  }
  const rows = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, us]) => ({ name: k, ms: Math.round(us / 1000), pct: Math.round((us / total) * 1000) / 10 }));
  return {
    busyMs: Math.round(total / 1000),
    idleMs: Math.round(idle / 1000),
    buckets: rows(buckets),
    functions: rows(fns),
  };
}

const isMain = process.argv[1]?.endsWith('cpu-profile.ts');
if (isMain) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: npx tsx bench/cpu-profile.ts FILE.cpuprofile [--top 25]');
    process.exit(2);
  }
  const i = process.argv.indexOf('--top');
  const s = summarise(JSON.parse(readFileSync(file, 'utf8')) as Profile, i > 0 ? Number(process.argv[i + 1]) : 25);
  console.log(`busy ${s.busyMs} ms, idle ${s.idleMs} ms`);
  console.log('| bucket | self ms | % of busy |\n|---|---|---|');
  for (const r of s.buckets) console.log(`| ${r.name} | ${r.ms} | ${r.pct} |`);
  console.log('\n| function | self ms | % of busy |\n|---|---|---|');
  for (const r of s.functions) console.log(`| ${r.name} | ${r.ms} | ${r.pct} |`);
}
