/**
 * Reading history.jsonl and deriving what the reports draw from it: every sync (and watch transfer) with
 * its outcome, conflicts per table, and excerpts around the operations a failed check names.
 */
import { readFile } from 'node:fs/promises';
import type { HistoryOp } from '../protocol/history';
import { ReportError } from './errors';

/** Parses a JSONL history. Blank and torn trailing lines (a run killed mid-write) are skipped, not fatal. */
export function parseHistory(text: string): HistoryOp[] {
  const ops: HistoryOp[] = [];
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    if (end > start + 1) {
      try {
        ops.push(JSON.parse(text.slice(start, end)) as HistoryOp);
      } catch {
        // torn line: ignore
      }
    }
    start = end + 1;
  }
  return ops;
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw new ReportError('HRN_ERR_RUN_DIR', `Cannot read history ${path}: ${(e as Error).message}`);
  }
}

export async function readHistory(path: string): Promise<HistoryOp[]> {
  return parseHistory(await readText(path));
}

/**
 * What the reports need from a history: the digest (syncs, conflicts) and excerpts by index. Backed
 * by parsed ops, or lazily by the file's lines: a 100k-op history is ~20 MB of JSON, and parsing
 * only the sync completions and the excerpted lines is several times faster than parsing it all.
 */
export interface HistoryView {
  digest(): HistoryDigest;
  excerpt(wanted: Iterable<number>): HistoryOp[];
}

export function historyViewOf(ops: HistoryOp[]): HistoryView {
  return { digest: () => digestHistory(ops), excerpt: (w) => excerpt(ops, w) };
}

const SYNC_LINE = /"f":"(?:sync|watch-transfer|file-upload)"/;

export class LazyHistory implements HistoryView {
  private readonly lines: string[];
  private readonly cache = new Map<number, HistoryOp | null>();

  constructor(text: string) {
    this.lines = text.split('\n');
    while (this.lines.length && !this.lines[this.lines.length - 1]!.trim()) this.lines.pop();
  }

  static async read(path: string): Promise<HistoryView> {
    const text = await readText(path);
    // The fast path relies on JSON.stringify's compact form (what the harness writes); anything
    // else (a hand-edited or pretty-printed history) is parsed in full.
    const first = text.slice(0, text.indexOf('\n') >>> 0);
    if (text && !/^\{"index":\d+,/.test(first)) return historyViewOf(parseHistory(text));
    return new LazyHistory(text);
  }

  private line(i: number): HistoryOp | null {
    let op = this.cache.get(i);
    if (op !== undefined) return op;
    try {
      op = JSON.parse(this.lines[i]!) as HistoryOp;
    } catch {
      op = null;
    }
    this.cache.set(i, op);
    return op;
  }

  digest(): HistoryDigest {
    const ops: HistoryOp[] = [];
    for (let i = 0; i < this.lines.length; i++) {
      const l = this.lines[i]!;
      if (!SYNC_LINE.test(l) || l.includes('"type":"invoke"')) continue;
      const op = this.line(i);
      if (op) ops.push(op);
    }
    const d = digestHistory(ops);
    for (let i = this.lines.length - 1; i >= 0; i--) {
      const last = this.line(i);
      if (last) {
        d.endTime = Math.max(d.endTime, last.time);
        break;
      }
    }
    return d;
  }

  /** Op at history index `i`: its own line when the history is dense (it always is when written by the harness). */
  private at(i: number): HistoryOp | null {
    const op = i < this.lines.length ? this.line(i) : null;
    if (op?.index === i) return op;
    const needle = `{"index":${i},`;
    const j = this.lines.findIndex((l) => l.startsWith(needle));
    return j >= 0 ? this.line(j) : null;
  }

  excerpt(wanted: Iterable<number>): HistoryOp[] {
    const hits = new Map<number, HistoryOp>();
    for (const i of wanted) {
      const op = this.at(i);
      if (op) hits.set(op.index, op);
    }
    const out = new Map(hits);
    for (const op of hits.values()) {
      if (op.process === 'nemesis') continue;
      // The other half of the invoke/completion pair is near: scan a window for the same opId.
      const needle = `"opId":${op.opId},`;
      const from = Math.max(0, op.index - 5000);
      const to = Math.min(this.lines.length, op.index + 5000);
      for (let j = from; j < to; j++) {
        if (!this.lines[j]!.includes(needle)) continue;
        const other = this.line(j);
        if (other && other.process === op.process && other.opId === op.opId) out.set(other.index, other);
      }
    }
    return [...out.values()].sort((a, b) => a.index - b.index);
  }
}

export type SyncOutcomeKind = 'ok' | 'conflict' | 'fail' | 'info';

export interface SyncEvent {
  /** History index of the completion. */
  index: number;
  device: string;
  /** Start (invoke) time, ms since run start. */
  start: number;
  end: number;
  outcome: SyncOutcomeKind;
  f: 'sync' | 'watch-transfer' | 'file-upload';
  error?: string;
  conflicts: number;
  latencyMs?: number;
}

export interface HistoryDigest {
  syncs: SyncEvent[];
  /** table → resolution → count */
  conflictsByTable: Record<string, Record<string, number>>;
  /** Devices that synced (the timeline adds the run's other devices). */
  devices: string[];
  endTime: number;
}

const SYNC_FNS = new Set(['sync', 'watch-transfer', 'file-upload']);

export function digestHistory(ops: HistoryOp[]): HistoryDigest {
  const syncs: SyncEvent[] = [];
  const conflictsByTable: Record<string, Record<string, number>> = {};
  const devices = new Set<string>();
  let endTime = 0;
  for (const op of ops) {
    if (op.time > endTime) endTime = op.time;
    if (op.type === 'invoke' || !SYNC_FNS.has(op.f)) continue;
    devices.add(op.device ?? op.process);
    const nConf = op.conflicts?.length ?? 0;
    if (nConf) {
      for (const c of op.conflicts!) {
        conflictsByTable[c.tableName] ??= {};
        const t = conflictsByTable[c.tableName]!;
        t[c.resolution] = (t[c.resolution] ?? 0) + 1;
      }
    }
    syncs.push({
      index: op.index,
      device: op.device ?? op.process,
      start: op.latencyMs !== undefined ? op.time - op.latencyMs : op.time,
      end: op.time,
      outcome: op.type === 'ok' ? (nConf ? 'conflict' : 'ok') : op.type === 'fail' ? 'fail' : 'info',
      f: op.f as SyncEvent['f'],
      error: op.error,
      conflicts: nConf,
      latencyMs: op.latencyMs,
    });
  }
  return { syncs, conflictsByTable, devices: [...devices], endTime };
}

/**
 * The operations a failed check names, plus the other half of each invoke/completion pair, in history
 * order. `wanted` are the named indexes (highlighted in the report).
 */
export function excerpt(ops: HistoryOp[], wanted: Iterable<number>): HistoryOp[] {
  const want = new Set<number>();
  const pairs = new Set<string>();
  for (const i of wanted) {
    // Histories are dense (index === position); fall back to a search if one is not.
    const op = ops[i]?.index === i ? ops[i] : ops.find((o) => o.index === i);
    if (!op) continue;
    want.add(i);
    if (op.process !== 'nemesis') pairs.add(`${op.process}\u0000${op.opId}`);
  }
  if (!want.size) return [];
  const min = Math.min(...want);
  const out: HistoryOp[] = [];
  // Pairs are close in the history; scan a window rather than the whole history when it is huge.
  for (const op of ops) {
    if (want.has(op.index) || (pairs.has(`${op.process}\u0000${op.opId}`) && op.index >= min - 5000)) out.push(op);
  }
  return out;
}
