/**
 * A tiny symmetric request/response channel over a message port (a worker's, or a WebSocket for the
 * app bridge: devices/bridge). The phone's main-thread object and
 * its worker both call each other: main → worker for device operations, worker → main for what only
 * the runner owns (a fresh token, a sleep on the run's clock). Events are fire-and-forget.
 */
/**
 * What the channel needs of a port: a worker, a MessagePort, or a WebSocket adapter. No Node import,
 * so a React Native test build can include this file as it is.
 */
export interface Endpoint {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (message: any) => void): unknown;
  off(event: 'message', listener: (message: any) => void): unknown;
}

export type RpcMessage =
  | { t: 'call'; id: number; method: string; args: unknown[] }
  | { t: 'result'; id: number; ok: true; value: unknown }
  | { t: 'result'; id: number; ok: false; error: { message: string; name?: string; props?: Record<string, unknown> } }
  | { t: 'event'; name: string; data: unknown };

export type Handler = (...args: any[]) => unknown;

export class RpcClosedError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'RpcClosedError';
  }
}

/** Errors keep their own enumerable fields (kind, status, code of a SyncHttpError) across the port. */
function serializeError(e: unknown) {
  if (e instanceof Error) {
    const props: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(e)) if (typeof v !== 'function' && typeof v !== 'object') props[k] = v;
    return { message: e.message, name: e.name, props };
  }
  return { message: String(e) };
}

export class Rpc {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: unknown): void }>();
  private closed: string | undefined;
  private readonly listener = (m: RpcMessage) => this.onMessage(m);

  constructor(
    private readonly port: Endpoint,
    private readonly handlers: Record<string, Handler>,
    private readonly onEvent: (name: string, data: unknown) => void = () => {},
    /** Told when outstanding outgoing calls go from none to some (true) and back (false). */
    private readonly onBusy: (busy: boolean) => void = () => {},
  ) {
    port.on('message', this.listener);
  }

  call<T = unknown>(method: string, ...args: unknown[]): Promise<T> {
    if (this.closed) return Promise.reject(new RpcClosedError(this.closed));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      if (this.pending.size === 0) this.onBusy(true);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.port.postMessage({ t: 'call', id, method, args } satisfies RpcMessage);
    });
  }

  emit(name: string, data: unknown): void {
    if (!this.closed) this.port.postMessage({ t: 'event', name, data } satisfies RpcMessage);
  }

  /** Fails every outstanding call (the worker was terminated: app kill). */
  close(reason: string): void {
    if (this.closed) return;
    this.closed = reason;
    this.port.off('message', this.listener);
    for (const p of this.pending.values()) p.reject(new RpcClosedError(reason));
    if (this.pending.size) this.onBusy(false);
    this.pending.clear();
  }

  private async onMessage(m: RpcMessage): Promise<void> {
    if (m.t === 'event') return this.onEvent(m.name, m.data);
    if (m.t === 'result') {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) this.onBusy(false);
      if (m.ok) p.resolve(m.value);
      else p.reject(Object.assign(new Error(m.error.message), { name: m.error.name ?? 'Error' }, m.error.props ?? {}));
      return;
    }
    const handler = this.handlers[m.method];
    try {
      if (!handler) throw new Error(`no handler for "${m.method}"`);
      const value = await handler(...m.args);
      if (!this.closed) this.port.postMessage({ t: 'result', id: m.id, ok: true, value } satisfies RpcMessage);
    } catch (e) {
      if (!this.closed)
        this.port.postMessage({ t: 'result', id: m.id, ok: false, error: serializeError(e) } satisfies RpcMessage);
    }
  }
}
