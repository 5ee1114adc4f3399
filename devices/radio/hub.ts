/**
 * The medium shared with worker threads over a MessagePort: the controllers stay in the hub's thread,
 * the worker's virtual sockets only carry H4 packets. Every message to the worker carries the
 * simulated time and a sequence number; the hub holds the clock until the worker says it is quiet
 * (its event loop settled after handling that message), so replies from the worker are stamped at the
 * instant they answer, however slow the thread. Worker timers (RemoteClock.sleep) run on the hub clock.
 */
import type { MessagePort } from 'node:worker_threads';
import type { Clock } from '../../protocol/clock';
import type { EnergyParams } from './energy';
import type { Medium } from './medium';
import type { RadioBackend, SocketChannel } from './socket';

type ToHub =
  | { k: 'open'; sid: number; address?: string; energy?: EnergyParams }
  | { k: 'h4'; sid: number; d: Uint8Array }
  | { k: 'close'; sid: number }
  | { k: 'sleep'; id: number; us: number }
  | { k: 'cancel'; id: number }
  | { k: 'quiet'; seq: number };

type ToWorkerBody =
  | { k: 'h4'; sid: number; d: Uint8Array }
  | { k: 'wake'; id: number }
  | { k: 'error'; sid: number; message: string };
type ToWorker = ToWorkerBody & { t: number; seq: number };

const asBuffer = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

export interface HubPeer {
  close(): void;
  readonly addresses: string[];
}

/** Serve the medium on `port` (the worker holds the other end). The clock is held until the worker is quiet. */
export function serveRadioPort(medium: Medium, port: MessagePort): HubPeer {
  const clock = medium.clock;
  const controllers = new Map<number, ReturnType<Medium['createController']>>();
  const timers = new Map<number, { cancel(): void }>();
  let seq = 0;
  // Held from the start: the worker is busy booting until its first 'quiet'.
  let release: (() => void) | null = clock.hold();
  let closed = false;

  const send = (m: ToWorkerBody) => {
    if (closed) return;
    seq++;
    if (!release) release = clock.hold();
    port.postMessage({ ...m, t: clock.nowUs(), seq } as ToWorker);
  };

  const onMessage = (m: ToHub) => {
    switch (m.k) {
      case 'open': {
        try {
          const c = medium.createController(m.address, m.energy);
          c.attach({ deliver: (pkt) => send({ k: 'h4', sid: m.sid, d: pkt }) });
          controllers.set(m.sid, c);
        } catch (err) {
          send({ k: 'error', sid: m.sid, message: (err as Error).message });
        }
        return;
      }
      case 'h4':
        controllers.get(m.sid)?.fromHost(asBuffer(m.d));
        return;
      case 'close':
        controllers.get(m.sid)?.detach();
        controllers.delete(m.sid);
        return;
      case 'sleep':
        timers.set(
          m.id,
          clock.after(m.us, () => {
            timers.delete(m.id);
            send({ k: 'wake', id: m.id });
          }),
        );
        return;
      case 'cancel':
        timers.get(m.id)?.cancel();
        timers.delete(m.id);
        return;
      case 'quiet':
        if (m.seq >= seq && release) {
          const r = release;
          release = null;
          r();
        }
        return;
    }
  };
  port.on('message', onMessage);
  const close = () => {
    if (closed) return;
    closed = true;
    port.off('message', onMessage);
    for (const t of timers.values()) t.cancel();
    for (const c of controllers.values()) c.detach();
    controllers.clear();
    if (release) {
      const r = release;
      release = null;
      r();
    }
    port.close();
  };
  port.on('close', close);
  return {
    close,
    get addresses() {
      return [...controllers.values()].map((c) => c.address);
    },
  };
}

/** Worker side: the backend for virtual sockets, a clock driven by the hub, and the quiet protocol. */
export class RadioPortClient implements RadioBackend {
  private sid = 0;
  private timerId = 0;
  private readonly sockets = new Map<number, (pkt: Buffer) => void>();
  private readonly wakes = new Map<number, () => void>();
  private lastSeq = 0;
  private holds = 0;
  private quietPending = false;
  private tUs = 0;
  readonly clock: Clock;

  constructor(
    private readonly port: MessagePort,
    epochMs: number,
    timeScale: number,
  ) {
    const self = this;
    this.clock = {
      timeScale,
      now: () => epochMs + self.tUs / 1000,
      sleep(ms: number, signal?: AbortSignal) {
        return new Promise<void>((resolve, reject) => {
          if (signal?.aborted) return reject(signal.reason);
          const id = ++self.timerId;
          self.wakes.set(id, () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          });
          const onAbort = () => {
            self.wakes.delete(id);
            self.post({ k: 'cancel', id });
            reject(signal?.reason);
          };
          signal?.addEventListener('abort', onAbort, { once: true });
          self.post({ k: 'sleep', id, us: Math.max(0, Math.round(ms * 1000)) });
        });
      },
    };
    port.on('message', (m: ToWorker) => this.onMessage(m));
  }

  /** Keep the hub's clock still (e.g. while booting); returns the release function. */
  hold(): () => void {
    this.holds++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.holds--;
      this.scheduleQuiet();
    };
  }

  open(deliver: (pkt: Buffer) => void, opts: { address?: string; energy?: EnergyParams }): SocketChannel {
    const sid = ++this.sid;
    this.sockets.set(sid, deliver);
    this.post({ k: 'open', sid, address: opts.address, energy: opts.energy });
    return {
      write: (pkt) => this.post({ k: 'h4', sid, d: pkt }),
      close: () => {
        this.sockets.delete(sid);
        this.post({ k: 'close', sid });
      },
    };
  }

  /** Report quiet now if nothing holds (call after boot). */
  ready(): void {
    this.scheduleQuiet();
  }

  private post(m: ToHub): void {
    this.port.postMessage(m);
  }

  private onMessage(m: ToWorker): void {
    this.lastSeq = m.seq;
    this.tUs = Math.max(this.tUs, m.t);
    if (m.k === 'h4') this.sockets.get(m.sid)?.(asBuffer(m.d));
    else if (m.k === 'wake') {
      const w = this.wakes.get(m.id);
      this.wakes.delete(m.id);
      w?.();
    } else if (m.k === 'error') {
      console.error(`[virtual-radio] ${m.message}`);
    }
    this.scheduleQuiet();
  }

  /** One turn of the event loop: the stacks and the app finish on microtasks before it ends. */
  private scheduleQuiet(): void {
    if (this.quietPending) return;
    this.quietPending = true;
    setImmediate(() => {
      this.quietPending = false;
      if (this.holds === 0) this.post({ k: 'quiet', seq: this.lastSeq });
    });
  }
}
