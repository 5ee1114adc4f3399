/**
 * The history recorder (Jepsen): every operation is appended once as `invoke` and once more with its
 * outcome (`ok`, `fail`, `info`). Indexes and op ids are assigned here, in one place, so the history
 * is totally ordered by `index` even when devices run concurrently.
 */
import type { HistoryOp, OpType } from '../../protocol/history';
import { HistoryError } from './errors';

/** What a caller supplies when an operation starts; the recorder fills in the rest. */
export type InvokeFields = Omit<HistoryOp, 'index' | 'opId' | 'type' | 'time' | 'process' | 'latencyMs'> & {
  /** Defaults to the device id (one logical process per device), or 'harness'. */
  process?: string;
};

/** What a completion may add (outcome details). Identity fields are copied from the invoke. */
export type CompleteFields = Partial<
  Omit<HistoryOp, 'index' | 'opId' | 'type' | 'process' | 'f' | 'time' | 'latencyMs' | 'device' | 'user'>
>;

export interface HistorySink {
  write(op: HistoryOp): void;
}

export interface HistoryOptions {
  /** Milliseconds since the run started. Default: wall time since the History was created. */
  now?: () => number;
  /** Each op is also handed to the sink as it is recorded (e.g. a JsonlHistoryWriter). */
  sink?: HistorySink;
  /** Keep ops in memory (`history.ops`). Default true; turn off for very long runs streamed to disk. */
  keepInMemory?: boolean;
}

export interface OpHandle {
  readonly opId: number;
  readonly invoke: HistoryOp;
  readonly done: boolean;
  ok(fields?: CompleteFields): HistoryOp;
  fail(fields?: CompleteFields): HistoryOp;
  info(fields?: CompleteFields): HistoryOp;
  complete(type: Exclude<OpType, 'invoke'>, fields?: CompleteFields): HistoryOp;
}

export class History {
  readonly ops: HistoryOp[] = [];
  private nextIndex = 0;
  private nextOpId = 0;
  private readonly open = new Map<number, OpHandle>();
  private readonly now: () => number;
  private readonly sink?: HistorySink;
  private readonly keep: boolean;

  constructor(opts: HistoryOptions = {}) {
    const t0 = performance.now();
    this.now = opts.now ?? (() => Math.round((performance.now() - t0) * 1000) / 1000);
    this.sink = opts.sink;
    this.keep = opts.keepInMemory ?? true;
  }

  /** Number of ops recorded so far (invokes and completions). */
  get length(): number {
    return this.nextIndex;
  }

  private append(op: HistoryOp): HistoryOp {
    if (this.keep) this.ops.push(op);
    this.sink?.write(op);
    return op;
  }

  /** Record the start of an operation; complete it through the returned handle. */
  invoke(fields: InvokeFields): OpHandle {
    const { process, ...rest } = fields;
    const invoke: HistoryOp = {
      index: this.nextIndex++,
      process: process ?? fields.device ?? 'harness',
      opId: this.nextOpId++,
      type: 'invoke',
      ...rest,
      time: this.now(),
    };
    this.append(invoke);
    // A class instance, not closures: a million handles must stay cheap to create.
    const handle = new Handle(this, invoke);
    this.open.set(invoke.opId, handle);
    return handle;
  }

  /** @internal Called by Handle. */
  _complete(invoke: HistoryOp, type: Exclude<OpType, 'invoke'>, extra: CompleteFields): HistoryOp {
    this.open.delete(invoke.opId);
    const time = this.now();
    const op: HistoryOp = {
      index: this.nextIndex++,
      process: invoke.process,
      opId: invoke.opId,
      type,
      f: invoke.f,
      time,
    };
    // Identity is repeated so each line of history.jsonl reads on its own; values stay on the invoke.
    if (invoke.device !== undefined) op.device = invoke.device;
    if (invoke.user !== undefined) op.user = invoke.user;
    if (invoke.table !== undefined) op.table = invoke.table;
    if (invoke.id !== undefined) op.id = invoke.id;
    if (invoke.trigger !== undefined) op.trigger = invoke.trigger;
    Object.assign(op, extra);
    op.time = time;
    op.latencyMs = Math.round((time - invoke.time) * 1000) / 1000;
    return this.append(op);
  }

  /** An instantaneous event (fault start/stop, check marker): invoke and `ok` at the same moment. */
  event(fields: InvokeFields, completion: CompleteFields = {}): HistoryOp {
    return this.invoke(fields).ok(completion);
  }

  /** Operations invoked but not completed yet. */
  pending(): OpHandle[] {
    return [...this.open.values()];
  }

  /**
   * Complete every open operation as `info` (Jepsen: an operation that never returned may or may
   * not have happened). Call at the end of a run, before checking.
   */
  closeOpen(reason = 'operation had not completed when the run ended'): number {
    const open = this.pending();
    for (const h of open) h.info({ error: reason });
    return open.length;
  }
}

class Handle implements OpHandle {
  private completed = false;
  constructor(
    private readonly history: History,
    readonly invoke: HistoryOp,
  ) {}
  get opId(): number {
    return this.invoke.opId;
  }
  get done(): boolean {
    return this.completed;
  }
  complete(type: Exclude<OpType, 'invoke'>, fields: CompleteFields = {}): HistoryOp {
    if (this.completed) {
      const i = this.invoke;
      throw new HistoryError(
        `operation ${i.opId} (${i.f} on ${i.process}) was completed twice`,
        'Complete each OpHandle exactly once (ok, fail or info).',
      );
    }
    this.completed = true;
    return this.history._complete(this.invoke, type, fields);
  }
  ok(fields?: CompleteFields): HistoryOp {
    return this.complete('ok', fields);
  }
  fail(fields?: CompleteFields): HistoryOp {
    return this.complete('fail', fields);
  }
  info(fields?: CompleteFields): HistoryOp {
    return this.complete('info', fields);
  }
}
