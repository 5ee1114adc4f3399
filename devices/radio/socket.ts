/**
 * A JS stand-in for `@abandonware/bluetooth-hci-socket` (its whole JS surface: bindRaw, bindUser,
 * bindControl, start, stop, isDevUp, setFilter, write, getDeviceList; events 'data' and 'error').
 * noble and bleno run unchanged on top of it; only the socket is virtual. Each bound socket is one
 * emulated controller on a medium, in this thread (LocalBackend) or in the hub's thread (hub.ts).
 */
import { EventEmitter } from 'node:events';
import type { EnergyParams } from './energy';
import type { Medium } from './medium';

export interface SocketChannel {
  write(pkt: Buffer): void;
  close(): void;
}

/** Where bound sockets get their controller from. */
export interface RadioBackend {
  open(deliver: (pkt: Buffer) => void, opts: { address?: string; energy?: EnergyParams }): SocketChannel;
}

export class LocalBackend implements RadioBackend {
  constructor(readonly medium: Medium) {}
  open(deliver: (pkt: Buffer) => void, opts: { address?: string; energy?: EnergyParams }): SocketChannel {
    const c = this.medium.createController(opts.address, opts.energy);
    c.attach({ deliver });
    return { write: (pkt) => c.fromHost(pkt), close: () => c.detach() };
  }
}

interface RadioState {
  backend: RadioBackend | null;
  /** Address and energy profile for the next socket that binds (one-shot). */
  next: { address?: string; energy?: EnergyParams };
  sockets: Set<VirtualHciSocket>;
}

export const RADIO_KEY = Symbol.for('sync-harness.virtual-radio');

export function radioState(): RadioState {
  const g = globalThis as any;
  if (!g[RADIO_KEY]) g[RADIO_KEY] = { backend: null, next: {}, sockets: new Set(), Socket: VirtualHciSocket };
  return g[RADIO_KEY];
}

export class VirtualHciSocket extends EventEmitter {
  private channel: SocketChannel | null = null;
  private started = false;
  private control = false;
  /**
   * Address/energy asked for when this socket was created (noble creates its socket in its constructor
   * but binds later), used when it binds; consumed then, so the next socket gets its own.
   */
  private readonly wanted = radioState().next;

  getDeviceList() {
    return [{ devId: 0, devUp: true, idVendor: null, idProduct: null, busNumber: null, deviceAddress: null }];
  }

  /**
   * Always up. Both stacks re-arm a 1 s poll right after this call (`setTimeout(pollIsDevUp, 1000)`);
   * the next timer created in this turn is unref'd so a process holding noble/bleno can still exit.
   * Our own timers use a reference to setTimeout captured at load, so they are never the one caught.
   */
  isDevUp(): boolean {
    const g = globalThis as any;
    const original = g.setTimeout;
    if (!original.__unrefNext) {
      const once = function (this: unknown, ...args: any[]) {
        g.setTimeout = original;
        const t = original.apply(this, args);
        t?.unref?.();
        return t;
      };
      once.__unrefNext = true;
      g.setTimeout = once;
      queueMicrotask(() => {
        if (g.setTimeout === once) g.setTimeout = original;
      });
    }
    return true;
  }

  bindRaw(devId?: number): number {
    this.bind();
    return devId ?? 0;
  }
  bindUser(devId?: number): number {
    this.bind();
    return devId ?? 0;
  }
  /** BlueZ management socket (bleno's SMP key store): nothing behind it. */
  bindControl(): number {
    this.control = true;
    return 0;
  }

  start(): void {
    this.started = true;
  }
  stop(): void {
    this.started = false;
  }
  reset(): void {}
  setFilter(_filter: Buffer): void {}

  write(data: Buffer): void {
    if (this.control) return;
    if (!this.channel) {
      this.emit('error', Object.assign(new Error('Network is down'), { code: 'ENETDOWN' }));
      return;
    }
    this.channel.write(Buffer.from(data));
  }

  /** Detach from the medium (the controller disappears; peers see a supervision timeout). */
  close(): void {
    this.channel?.close();
    this.channel = null;
    radioState().sockets.delete(this);
  }

  private bind(): void {
    if (this.channel) return;
    const st = radioState();
    if (!st.backend) {
      throw Object.assign(
        new Error(
          'HRN_ERR_BLE_VIRTUAL: virtual radio has no medium; call installVirtualRadio() before loading noble/bleno',
        ),
        { code: 'HRN_ERR_BLE_VIRTUAL' },
      );
    }
    const opts = this.wanted;
    if (st.next === opts) st.next = {};
    this.channel = st.backend.open((pkt) => {
      if (this.started) this.emit('data', pkt);
    }, opts);
    st.sockets.add(this);
  }
}
