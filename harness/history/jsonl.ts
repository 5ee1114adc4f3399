/**
 * history.jsonl: one HistoryOp per line. The writer buffers (a syscall per op would dominate a
 * million-op run) and writes synchronously in large chunks, so a crash loses at most one buffer and
 * the file is never interleaved. The reader streams and names the line of anything it cannot parse.
 */
import { closeSync, createReadStream, openSync, writeSync } from 'node:fs';
import type { HistoryOp, OpType } from '../../protocol/history';
import { HistoryError } from './errors';
import type { HistorySink } from './recorder';

export interface WriterOptions {
  /** Flush when this many characters are buffered. Default 1 MiB. */
  bufferChars?: number;
}

export class JsonlHistoryWriter implements HistorySink {
  private fd: number | null;
  private chunks: string[] = [];
  private buffered = 0;
  private readonly limit: number;
  /** Ops written so far. */
  count = 0;
  bytes = 0;

  constructor(
    readonly path: string,
    opts: WriterOptions = {},
  ) {
    this.limit = opts.bufferChars ?? 1 << 20;
    try {
      this.fd = openSync(path, 'w');
    } catch (e) {
      throw new HistoryError(
        `cannot open ${path} for writing: ${(e as Error).message}`,
        'Check that the run directory exists and is writable.',
      );
    }
  }

  write(op: HistoryOp): void {
    if (this.fd === null) {
      throw new HistoryError(`history writer for ${this.path} is closed`, 'Record ops before closing the writer.');
    }
    const line = JSON.stringify(op);
    this.chunks.push(line);
    this.buffered += line.length + 1;
    this.count++;
    if (this.buffered >= this.limit) this.flush();
  }

  writeAll(ops: Iterable<HistoryOp>): void {
    for (const op of ops) this.write(op);
  }

  flush(): void {
    if (this.fd === null || this.chunks.length === 0) return;
    const text = this.chunks.join('\n') + '\n';
    this.chunks = [];
    this.buffered = 0;
    const buf = Buffer.from(text, 'utf8');
    let off = 0;
    while (off < buf.length) off += writeSync(this.fd, buf, off, buf.length - off);
    this.bytes += buf.length;
  }

  /** Flush and close. Safe to call twice. */
  close(): void {
    if (this.fd === null) return;
    this.flush();
    closeSync(this.fd);
    this.fd = null;
  }
}

/** Write a whole history in one go. */
export function writeHistory(
  path: string,
  ops: Iterable<HistoryOp>,
  opts?: WriterOptions,
): { count: number; bytes: number } {
  const w = new JsonlHistoryWriter(path, opts);
  try {
    w.writeAll(ops);
  } finally {
    w.close();
  }
  return { count: w.count, bytes: w.bytes };
}

export interface ReadOptions {
  /**
   * A run killed while writing leaves a partial last line. By default that is an error (the history
   * is incomplete); with this flag the partial line is dropped and reported through `onWarning`.
   */
  allowTruncatedTail?: boolean;
  onWarning?: (message: string) => void;
}

const OP_TYPES: ReadonlySet<string> = new Set<OpType>(['invoke', 'ok', 'fail', 'info']);

function snippet(line: string): string {
  return line.length > 80 ? `${line.slice(0, 80)}…` : line;
}

function parseLine(line: string, lineNo: number, file: string): HistoryOp {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (e) {
    throw new HistoryError(
      `${file} line ${lineNo}: not valid JSON (${(e as Error).message}): ${snippet(line)}`,
      'The history file is corrupt at this line; re-run the scenario, or fix or delete the line to inspect the rest.',
      lineNo,
      file,
    );
  }
  return validateOp(v, lineNo, file, line);
}

function validateOp(v: unknown, lineNo: number, file: string, line?: string): HistoryOp {
  const o = v as Partial<HistoryOp> | null;
  const problem =
    typeof o !== 'object' || o === null || Array.isArray(o)
      ? 'expected a JSON object'
      : typeof o.index !== 'number'
        ? 'missing numeric "index"'
        : typeof o.type !== 'string' || !OP_TYPES.has(o.type)
          ? `"type" must be one of invoke, ok, fail, info (got ${JSON.stringify(o.type)})`
          : typeof o.f !== 'string'
            ? 'missing string "f" (the operation function)'
            : typeof o.time !== 'number'
              ? 'missing numeric "time"'
              : typeof o.opId !== 'number'
                ? 'missing numeric "opId"'
                : null;
  if (problem) {
    throw new HistoryError(
      `${file} line ${lineNo}: not a history operation: ${problem}: ${snippet(line ?? JSON.stringify(v) ?? '')}`,
      'Each line of history.jsonl must be one HistoryOp (protocol/history.ts) as written by the harness.',
      lineNo,
      file,
    );
  }
  return o as HistoryOp;
}

/**
 * Parse the complete lines of a chunk, one JSON.parse per line (measured faster than joining the
 * lines into one array for a single parse). Returns the number of lines consumed.
 */
function parseLines(body: string, firstLine: number, file: string, emit: (op: HistoryOp) => void): number {
  let start = 0;
  let lineNo = firstLine;
  while (true) {
    let nl = body.indexOf('\n', start);
    const lastLine = nl === -1;
    if (lastLine) nl = body.length;
    if (nl > start && !(nl === start + 1 && body.charCodeAt(start) === 13)) {
      emit(parseLine(body.slice(start, nl), lineNo, file));
    }
    if (lastLine) return lineNo - firstLine + 1;
    lineNo++;
    start = nl + 1;
  }
}

/**
 * Core scanner: calls `emit` for each op, chunk by chunk. Line numbers are 1-based and count blank
 * lines, so they match an editor's.
 */
async function scanHistory(
  path: string,
  opts: ReadOptions,
  emit: (op: HistoryOp) => void,
  onChunkDone?: () => Promise<void> | void,
): Promise<void> {
  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 });
  let rest = '';
  let lineNo = 0;
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      const text = rest.length > 0 ? rest + chunk : chunk;
      const last = text.lastIndexOf('\n');
      if (last === -1) {
        rest = text;
      } else {
        lineNo += parseLines(text.slice(0, last), lineNo + 1, path, emit);
        rest = text.slice(last + 1);
      }
      if (onChunkDone) await onChunkDone();
    }
  } catch (e) {
    stream.destroy();
    if (e instanceof HistoryError) throw e;
    throw new HistoryError(
      `cannot read ${path}: ${(e as Error).message}`,
      'Pass the history.jsonl of a run directory written by `harness run`.',
    );
  }
  if (rest.trim().length > 0) {
    lineNo++;
    let op: HistoryOp | null = null;
    try {
      op = parseLine(rest, lineNo, path);
    } catch (e) {
      if (!(e instanceof HistoryError)) throw e;
      if (!opts.allowTruncatedTail) {
        throw new HistoryError(
          `${e.message} (the last line has no newline: the run was probably killed while writing)`,
          'Re-run the scenario, or read with allowTruncatedTail to drop the partial last line.',
          lineNo,
          path,
        );
      }
      opts.onWarning?.(`${path} line ${lineNo}: dropped a partial last line (run killed while writing?)`);
    }
    if (op) emit(op);
  }
}

/** Stream the ops of a history.jsonl file (memory bounded by one 1 MiB chunk of ops). */
export async function* streamHistory(path: string, opts: ReadOptions = {}): AsyncGenerator<HistoryOp> {
  let batch: HistoryOp[] = [];
  const queue: HistoryOp[][] = [];
  let done = false;
  let failure: unknown = null;
  let wake: (() => void) | null = null;
  let resume: (() => void) | null = null;
  let cancelled = false;
  const scanning = scanHistory(
    path,
    opts,
    (op) => batch.push(op),
    () => {
      if (cancelled) throw new HistoryError('history stream closed by the reader', 'Nothing to do.');
      queue.push(batch);
      batch = [];
      wake?.();
      // Back-pressure: wait until the consumer has taken this chunk.
      return new Promise<void>((r) => {
        resume = r;
      });
    },
  ).then(
    () => {
      if (batch.length) queue.push(batch);
      done = true;
      wake?.();
    },
    (e) => {
      failure = e;
      done = true;
      wake?.();
    },
  );
  try {
    while (true) {
      const next = queue.shift();
      if (next) {
        const r = resume as (() => void) | null;
        resume = null;
        r?.();
        yield* next;
        continue;
      }
      if (done) break;
      await new Promise<void>((r) => {
        wake = r;
      });
      wake = null;
    }
  } finally {
    // A consumer that stops early (break) must not leave the scanner waiting forever.
    if (!done) {
      cancelled = true;
      const r = resume as (() => void) | null;
      r?.();
    }
  }
  await scanning;
  if (failure && !cancelled) throw failure;
}

/** Read a whole history.jsonl into memory. */
export async function readHistory(path: string, opts: ReadOptions = {}): Promise<HistoryOp[]> {
  const out: HistoryOp[] = [];
  await scanHistory(path, opts, (op) => out.push(op));
  return out;
}
