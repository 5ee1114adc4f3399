/**
 * Bounds for slow or stalled clients (issue #18): a client that sends headers and then nothing, or
 * trickles its body, must not hold a socket forever, and one address must not take every socket.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

export interface ConnectionLimits {
  /** The request headers must have arrived this long after the connection's request began. */
  headersTimeoutMs: number;
  /** The whole request, body included, must have arrived within this (Node answers 408, then closes). */
  requestTimeoutMs: number;
  /** A socket with no traffic either way for this long is closed (server-sent event streams are exempt). */
  idleTimeoutMs: number;
  /** An idle keep-alive socket is closed after this. */
  keepAliveTimeoutMs: number;
  /** Open connections one remote address may hold; the next one is closed at once. 0 = no bound. */
  maxConnectionsPerIp: number;
}

/**
 * Generous enough for a 10 MB push over the harness's slow-3g preset and for the 1000-virtual-user
 * load scenario (every device connects from loopback), small enough that a stalled client is gone
 * within about a minute.
 */
export const DEFAULT_LIMITS: ConnectionLimits = {
  headersTimeoutMs: 20_000,
  requestTimeoutMs: 60_000,
  idleTimeoutMs: 60_000,
  keepAliveTimeoutMs: 5_000,
  maxConnectionsPerIp: 2048,
};

export function resolveLimits(over: Partial<ConnectionLimits> = {}): ConnectionLimits {
  const limits = { ...DEFAULT_LIMITS, ...over };
  for (const [k, v] of Object.entries(limits)) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
      throw new Error(`limits.${k} must be a non-negative integer, got ${JSON.stringify(v)}`);
  }
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) limits.headersTimeoutMs = limits.requestTimeoutMs;
  return limits;
}

/**
 * Node checks the header and request deadlines on a timer (30 s by default), so a deadline can be
 * overrun by that much; checking at a quarter of the smaller deadline keeps the overrun small.
 */
export function checkingIntervalMs(l: ConnectionLimits): number {
  return Math.max(25, Math.min(5_000, Math.floor(Math.min(l.headersTimeoutMs, l.requestTimeoutMs) / 4)));
}

/** Closes a new connection when its remote address already holds `max` (Node's maxConnections, per address). */
export function boundConnectionsPerIp(server: Server, max: number, onRefused: (address: string) => void): void {
  if (max <= 0) return;
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const addr = socket.remoteAddress ?? 'unknown';
    const n = open.get(addr) ?? 0;
    if (n >= max) {
      onRefused(addr);
      socket.destroy();
      return;
    }
    open.set(addr, n + 1);
    socket.once('close', () => {
      const left = (open.get(addr) ?? 1) - 1;
      if (left <= 0) open.delete(addr);
      else open.set(addr, left);
    });
  });
}
