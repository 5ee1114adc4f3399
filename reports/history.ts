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

export async function readHistory(path: string): Promise<HistoryOp[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new ReportError('HRN_ERR_RUN_DIR', `Cannot read history ${path}: ${(e as Error).message}`);
  }
  return parseHistory(text);
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
  devices: string[];
  endTime: number;
  /** index → op, only for ops the report shows in excerpts (filled by `excerpt`). */
  byIndex: Map<number, HistoryOp>;
}

const SYNC_FNS = new Set(['sync', 'watch-transfer', 'file-upload']);

export function digestHistory(ops: HistoryOp[]): HistoryDigest {
  const syncs: SyncEvent[] = [];
  const conflictsByTable: Record<string, Record<string, number>> = {};
  const devices = new Set<string>();
  let endTime = 0;
  for (const op of ops) {
    if (op.time > endTime) endTime = op.time;
    if (op.device) devices.add(op.device);
    if (op.type === 'invoke' || !SYNC_FNS.has(op.f)) continue;
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
  return { syncs, conflictsByTable, devices: [...devices], endTime, byIndex: new Map() };
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
