/**
 * Switching the virtual radio on, and loading noble/bleno on top of whatever socket is in place.
 * Our code never imports noble/bleno statically: they open their HCI socket while loading, so the
 * radio must be chosen first. `loadNoble()`/`loadBleno()` install the virtual radio when
 * HARNESS_BLE=virtual; otherwise the real native socket (real adapter) is used.
 */
import { createRequire } from 'node:module';
import type { MessagePort } from 'node:worker_threads';
import type { Clock } from '../../protocol/clock';
import type { SimClock, TimeScale } from './clock';
import type { EnergyParams } from './energy';
import { RadioPortClient } from './hub';
import { Medium } from './medium';
import { LocalBackend, radioState, type VirtualHciSocket } from './socket';

const require = createRequire(import.meta.url);

export interface InstallOptions {
  /** Medium for sockets bound in this thread (default: the current one, or a new instant-time medium). */
  medium?: Medium;
  timeScale?: TimeScale;
  seed?: number;
  /** Worker side: talk to the hub's medium over this port instead. */
  port?: MessagePort;
  /** With `port`: the hub clock's epoch and scale (RemoteClock.now() = epoch + simulated time). */
  epochMs?: number;
  /** Address/energy profile of the next socket that binds (e.g. the watch's bleno). */
  address?: string;
  energy?: EnergyParams;
}

export interface VirtualRadio {
  /** The medium when it lives in this thread. */
  medium?: Medium;
  /** The hub client when the medium lives in another thread. */
  client?: RadioPortClient;
  clock: Clock;
}

let current: VirtualRadio | null = null;

export function installVirtualRadio(opts: InstallOptions = {}): VirtualRadio {
  require('./register.cjs').installHook();
  const st = radioState();
  if (opts.port) {
    const client = new RadioPortClient(opts.port, opts.epochMs ?? Date.now(), numericScale(opts.timeScale));
    st.backend = client;
    current = { client, clock: client.clock };
  } else {
    const medium =
      opts.medium ??
      (current?.medium && !opts.timeScale && opts.seed === undefined ? current.medium : undefined) ??
      new Medium({ timeScale: opts.timeScale, seed: opts.seed });
    st.backend = new LocalBackend(medium);
    current = { medium, clock: medium.clock };
  }
  if (opts.address || opts.energy) st.next = { address: opts.address, energy: opts.energy };
  return current;
}

/** Address/energy profile for the next socket that binds in this thread. */
export function nextSocketOptions(o: { address?: string; energy?: EnergyParams }): void {
  radioState().next = { ...o };
}

export function currentRadio(): VirtualRadio | null {
  return current;
}

export function isVirtualRadioWanted(): boolean {
  return process.env.HARNESS_BLE === 'virtual';
}

function ensureRadio(): void {
  if (!current && isVirtualRadioWanted()) installVirtualRadio();
}

/** A new noble instance (own HCI socket = own controller), via noble's public with-custom-binding. */
export function loadNoble(): any {
  ensureRadio();
  return require('@abandonware/noble/with-custom-binding')({});
}

/** bleno is a module singleton (one per thread): one simulated watch per worker. */
export function loadBleno(): any {
  ensureRadio();
  return require('@abandonware/bleno');
}

/** Close every virtual socket of this thread (controllers leave the air; peers time out). */
export function closeVirtualSockets(): void {
  for (const s of [...radioState().sockets] as VirtualHciSocket[]) s.close();
}

export function simClockOf(r: VirtualRadio | null): SimClock | undefined {
  return r?.medium?.clock;
}

function numericScale(s: TimeScale | undefined): number {
  return s === undefined || s === 'instant' ? Number.POSITIVE_INFINITY : s;
}
